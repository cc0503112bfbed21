#!/usr/bin/env bash
# Checks the Go binding against an installed pcmoe: go vet, the tests with
# the default cgo pointer checks (GODEBUG=cgocheck=1) and with the stricter
# cgocheck=2, a check that the package calls every function pcmoe.h
# declares, and a build of the heterogeneous host program. Offline: the
# module has no dependencies and GOPROXY is off.
#
#   bindings/go/test.sh PREFIX      (PREFIX contains lib/, include/pcmoe.h and lib/pkgconfig/pcmoe.pc)
#
# Environment: PCMOE_CLI, the pcmoe program that makes the network tests'
# key pairs (default: .build/release/pcmoe of this repository).
set -euo pipefail
if [[ $# -ne 1 ]]; then
    echo "usage: $0 PREFIX" >&2
    exit 2
fi
prefix=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

export PKG_CONFIG_PATH=$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export LD_LIBRARY_PATH=$prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export GOCACHE=/tmp/pcmoe-go/cache GOPATH=/tmp/pcmoe-go/path GOPROXY=off GOFLAGS=-mod=mod
export PCMOE_CLI=${PCMOE_CLI:-$root/.build/release/pcmoe}
cd "$here"

echo "== go vet"
go vet ./...

echo "== go test (GODEBUG=cgocheck=1)"
GODEBUG=cgocheck=1 go test -count=1 ./...

echo "== go test (GODEBUG=cgocheck=2)"
GODEBUG=cgocheck=2 go test -count=1 ./...

echo "== every function of pcmoe.h is called"
header=$prefix/include/pcmoe.h
declared=$(grep -E '^[a-z][a-z0-9_ ]*[ *]pcmoe_[a-z0-9_]+\(' "$header" | grep -v '^typedef' |
    sed -E 's/.*[ *](pcmoe_[a-z0-9_]+)\(.*/\1/' | sort -u)
sources=$(ls ./*.go | grep -v '_test\.go$')
missing=0
for name in $declared; do
    # shellcheck disable=SC2086
    if ! grep -q "C\.$name(" $sources; then
        echo "not called by the binding: $name"
        missing=1
    fi
done
echo "$(wc -w <<<"$declared") functions declared"
[[ $missing -eq 0 ]]

echo "== the heterogeneous host program builds"
out=$(mktemp -d /tmp/pcmoe-go-host.XXXXXX)
"$root/examples/heterogeneous/go/build.sh" "$prefix" "$out"
rm -rf "$out"
echo "all Go binding checks passed"
