#!/usr/bin/env bash
# Tests the Rust binding against the pcmoe installed under PREFIX:
#  1. every function of PREFIX/include/pcmoe.h is declared in src/sys.rs,
#     sys.rs declares nothing else, and the safe wrapper calls each one;
#  2. the README's example is examples/train.rs;
#  3. `cargo test --offline` with the cargo on PATH (unit, layout and
#     integration tests; it also builds the examples);
#  4. examples/train.rs runs for three rounds.
#
#   bindings/rust/test.sh PREFIX
#
# Environment: PCMOE_CLI, the pcmoe program that makes key pairs for the
# network test (default: PREFIX/bin/pcmoe when present, else `pcmoe` on
# PATH, else the repository's .build/release/pcmoe). CARGO_TARGET_DIR
# defaults to a folder per cargo version under /tmp/pcmoe-rust-target.
set -euo pipefail

if [ "$#" -ne 1 ]; then
    echo "usage: $0 PREFIX" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
prefix=$(cd "$1" && pwd)
header="$prefix/include/pcmoe.h"
[ -f "$header" ] || { echo "error: $header is missing; give the prefix of a pcmoe installation." >&2; exit 1; }

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="$prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if [ -z "${PCMOE_CLI:-}" ] && [ -x "$prefix/bin/pcmoe" ]; then
    export PCMOE_CLI="$prefix/bin/pcmoe"
fi
cargo_version=$(cargo --version)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/tmp/pcmoe-rust-target/$(echo "$cargo_version" | cut -d' ' -f1-2 | tr ' ' '-')}
echo "== $cargo_version, $(rustc --version); target folder $CARGO_TARGET_DIR"

# 1. Coverage: the header's functions, those sys.rs declares, and those the wrapper calls.
failures=0
header_functions=$(grep -E '^[a-z][a-z0-9_ ]*[ *]pcmoe_[a-z0-9_]+\(' "$header" | grep -v '^typedef' \
    | sed -E 's/.*[ *](pcmoe_[a-z0-9_]+)\(.*/\1/' | sort -u)
declared=$(grep -oE '\bfn pcmoe_[a-z0-9_]+\(' "$here/src/sys.rs" | sed -E 's/fn (pcmoe_[a-z0-9_]+)\(/\1/' | sort -u)
wrapper_sources=$(find "$here/src" -name '*.rs' ! -name 'sys.rs' ! -name 'sys_layout_test.rs')
for name in $header_functions; do
    if ! grep -qx "$name" <<< "$declared"; then
        echo "FAIL: $name is declared in pcmoe.h but not in src/sys.rs" >&2
        failures=$((failures + 1))
    fi
done
for name in $declared; do
    if ! grep -qx "$name" <<< "$header_functions"; then
        echo "FAIL: src/sys.rs declares $name, which pcmoe.h does not" >&2
        failures=$((failures + 1))
    fi
    # shellcheck disable=SC2086
    if ! grep -q "sys::$name(" $wrapper_sources; then
        echo "FAIL: src/sys.rs declares $name, but the safe wrapper never calls it" >&2
        failures=$((failures + 1))
    fi
done
echo "coverage: $(wc -w <<< "$header_functions") functions in pcmoe.h, $(wc -w <<< "$declared") in src/sys.rs, $failures problems"

# 2. The README's example, the first ```rust block, is examples/train.rs.
if ! diff <(sed -n '/^```rust$/,/^```$/p' "$here/README.md" | sed '1d;/^```$/,$d') "$here/examples/train.rs" > /dev/null; then
    echo "FAIL: the example in README.md differs from examples/train.rs" >&2
    failures=$((failures + 1))
fi
[ "$failures" -eq 0 ] || { echo "coverage and README checks failed" >&2; exit 1; }

# 3. The tests.
cd "$here"
cargo test --offline

# 4. The example, writing its checkpoints to a scratch folder.
scratch=$(mktemp -d /tmp/pcmoe-rust-example.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
TMPDIR="$scratch" cargo run --offline --quiet --example train 3 > "$scratch/train.log"
grep -q "^party 2: .* bits/byte" "$scratch/train.log" || { cat "$scratch/train.log"; echo "FAIL: the example printed no result for party 2" >&2; exit 1; }
echo "example: $(grep -c '^round' "$scratch/train.log") rounds, $(ls "$scratch"/*.safetensors | wc -l) checkpoints"
echo "all Rust binding checks passed"
