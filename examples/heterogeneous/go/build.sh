#!/usr/bin/env bash
# Builds the Go host program of the heterogeneous session offline against an
# installed pcmoe, to OUT_DIR/host-go. The binary finds libpcmoe.so in
# PREFIX/lib through its run path, so it runs without LD_LIBRARY_PATH.
#
#   examples/heterogeneous/go/build.sh PREFIX OUT_DIR
set -euo pipefail
if [[ $# -ne 2 ]]; then
    echo "usage: $0 PREFIX OUT_DIR" >&2
    exit 2
fi
prefix=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
cd "$(dirname "$0")"

export PKG_CONFIG_PATH=$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export GOCACHE=${GOCACHE:-/tmp/pcmoe-go/cache} GOPATH=${GOPATH:-/tmp/pcmoe-go/path} GOPROXY=off GOFLAGS=-mod=mod
export CGO_LDFLAGS="-Wl,-rpath,$prefix/lib${CGO_LDFLAGS:+ $CGO_LDFLAGS}"
go vet .
go build -o "$out/host-go" .
echo "built $out/host-go"
