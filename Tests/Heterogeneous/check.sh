#!/usr/bin/env bash
# Checks the mixed-runtime session of examples/heterogeneous: three parties
# hosted by C++, Rust and Go programs train together over ZeroMQ with CURVE
# on 127.0.0.1, and
#   - every process ends with its evaluation and a result line naming its runtime;
#   - every party's loss falls, and its byte and message counters are above
#     zero in both directions;
#   - every turn's loss equals the same run with every party inside one
#     `pcmoe party --in-process` process, to the 6 decimals the hosts print,
#     so the three bindings exchange the same protobuf envelopes as the CLI.
#
#   Tests/Heterogeneous/check.sh PREFIX [PCMOE_BINARY]
#
# Prints one line per check, then "N passed, M failed"; exits 1 when any check failed.
set -euo pipefail

if [ "$#" -lt 1 ]; then
    echo "usage: $0 PREFIX [PCMOE_BINARY]" >&2
    exit 2
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
prefix=$1
pcmoe=${2:-$root/.build/release/pcmoe}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
steps=30
data=(/usr/share/games/fortunes /usr/share/dictd/jargon.dict.dz /usr/share/dictd/devil.dict.dz)

passed=0
failed=0
check() { # check NAME COMMAND...
    local name=$1
    shift
    if "$@"; then
        echo "pass: $name"
        passed=$((passed + 1))
    else
        echo "FAIL: $name"
        failed=$((failed + 1))
    fi
}

run_status=0
PCMOE=$pcmoe STEPS=$steps SESSION=4243 DATA0=${data[0]} DATA1=${data[1]} DATA2=${data[2]} \
    "$root/examples/heterogeneous/run.sh" "$prefix" "$work/run" > "$work/run.log" 2>&1 || run_status=$?
check "the three host programs build and finish" test "$run_status" -eq 0

field() { sed -n "s/^party $1 (.*): result.* $2=\([^ ]*\).*/\1/p" "$work/run/party$1.log" 2> /dev/null; }
above_zero() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -gt 0 ]; }
runtimes=(cpp rust go)
for id in 0 1 2; do
    name="party $id (${runtimes[$id]})"
    check "$name reports its runtime" test "$(field "$id" runtime)" = "${runtimes[$id]}"
    check "$name ends with its evaluation" \
        awk -v v="$(field "$id" val_loss)" 'BEGIN { exit !(v + 0 > 0 && v + 0 < 10) }'
    check "$name loss falls" \
        awk -v a="$(field "$id" first_loss)" -v b="$(field "$id" last_loss)" 'BEGIN { exit !(a != "" && b + 0 < a + 0) }'
    for counter in sent_bytes received_bytes messages_sent messages_received; do
        check "$name $counter above zero" above_zero "$(field "$id" "$counter")"
    done
done

# The reference: the same run inside one pcmoe process.
cp "$work/run/deployment.json" "$work/deployment.json" 2> /dev/null || echo '{}' > "$work/deployment.json"
cp "$work"/run/party?.pub "$work/" 2> /dev/null || true
"$pcmoe" party --in-process --deployment "$work/deployment.json" --checkpoints "$work/in-process" \
    --data "${data[0]}" --data "${data[1]}" --data "${data[2]}" \
    --backbone-seed 1000 --backbone-seed 1001 --backbone-seed 1002 \
    --d-model 64 --heads 4 --layers 2 --experts 6 --top-k 2 --expert-hidden 128 --seq-len 64 \
    --steps "$steps" --batch 8 --lr 2e-3 --eval-windows 64 > "$work/in-process.log" 2>&1 || true
sed -n 's/^party \([0-9]\): turn \([0-9]*\) loss \([^ ]*\).*/\2 \1 \3/p' "$work/in-process.log" |
    awk '{ printf "%d %d %.6f\n", $1, $2, $3 }' | sort -n > "$work/reference.txt"
cat "$work"/run/party?.log | sed -n 's/^party \([0-9]\) ([a-z]*): turn \([0-9]*\) loss \([^ ]*\)$/\2 \1 \3/p' |
    sort -n > "$work/mixed.txt"
check "the reference run has $steps turns" test "$(wc -l < "$work/reference.txt")" -eq "$steps"
check "every turn's loss equals the one-process run" cmp -s "$work/reference.txt" "$work/mixed.txt"

echo "$passed passed, $failed failed"
if [ "$failed" -ne 0 ]; then
    tail -n 20 "$work/run.log"
    for log in "$work"/run/party?.log "$work/in-process.log"; do [ -f "$log" ] && { echo "== $log"; tail -n 5 "$log"; }; done
    diff "$work/reference.txt" "$work/mixed.txt" | head -10 || true
    exit 1
fi
