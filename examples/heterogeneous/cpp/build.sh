#!/usr/bin/env bash
# Builds the C++ host of the heterogeneous session to OUT_DIR/host-cpp,
# against the pcmoe installed in PREFIX and the header-only binding in
# bindings/cpp/include.
#
#   examples/heterogeneous/cpp/build.sh PREFIX OUT_DIR
#
# The binary carries PREFIX/lib as its run path, so it finds libpcmoe.so
# without LD_LIBRARY_PATH.
set -euo pipefail
if [[ $# -ne 2 ]]; then
    echo "usage: $0 PREFIX OUT_DIR" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
binding=$(cd "$here/../../../bindings/cpp/include" && pwd)
prefix=$(cd "$1" && pwd)
out=$2
mkdir -p "$out"

flags=$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs pcmoe)
# shellcheck disable=SC2086
g++ -std=c++17 -Wall -Wextra -Werror -pedantic -O2 -I"$binding" "$here/host.cpp" $flags \
    -Wl,-rpath,"$prefix/lib" -o "$out/host-cpp"
echo "built $out/host-cpp"
