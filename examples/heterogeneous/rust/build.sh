#!/usr/bin/env bash
# Builds host-rust, one party of a pcmoe session hosted by Rust, offline
# against the pcmoe installed under PREFIX, and copies it to OUT_DIR/host-rust.
#
#   examples/heterogeneous/rust/build.sh PREFIX OUT_DIR
#
# The binary carries PREFIX/lib as its run path, so it finds libpcmoe.so
# without LD_LIBRARY_PATH. Uses the cargo on PATH; CARGO_TARGET_DIR defaults
# to /tmp/pcmoe-rust-target/host.
set -euo pipefail

if [ "$#" -ne 2 ]; then
    echo "usage: $0 PREFIX OUT_DIR" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
prefix=$(cd "$1" && pwd)
mkdir -p "$2"
out_dir=$(cd "$2" && pwd)
[ -f "$prefix/lib/pkgconfig/pcmoe.pc" ] || { echo "error: $prefix/lib/pkgconfig/pcmoe.pc is missing; give the prefix of a pcmoe installation." >&2; exit 1; }

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/tmp/pcmoe-rust-target/host}
export RUSTFLAGS="${RUSTFLAGS:-} -C link-arg=-Wl,-rpath,$prefix/lib"

cargo build --offline --locked --release --manifest-path "$here/Cargo.toml"
cp "$CARGO_TARGET_DIR/release/host-rust" "$out_dir/host-rust"
echo "built $out_dir/host-rust"
