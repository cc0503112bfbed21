#!/usr/bin/env bash
# Times three parties as three `pcmoe party` processes over ZeroMQ with CURVE
# on 127.0.0.1 against the same run with every party in one process
# (--in-process), for f32 and bf16 on the wire, and prints a table.
#
#   bench/processes.sh [PCMOE_BINARY] [TURNS]    (defaults .build/release/pcmoe, 60)
#
# The figure is train_seconds (from the end of the join to the end of the
# last turn, as party 0 reports it) per trained token. Runs alternate, two
# of each kind per wire type, and the table gives the faster of each pair.
set -euo pipefail

pcmoe=${1:-.build/release/pcmoe}
turns=${2:-60}
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -9 "$pid" 2> /dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

for id in 0 1 2; do
    awk -v seed=$((id + 11)) 'BEGIN { x = seed; for (i = 0; i < 60000; i++) {
        x = (x * 1103515245 + 12345) % 2147483648; printf "%c", 97 + x % 26; if (i % 60 == 59) printf "\n" } }' \
        > "$work/text$id.txt"
    "$pcmoe" keygen --out "$work/party$id" > /dev/null
done
read -r -a ports <<< "$(python3 -c 'import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')"
cat > "$work/deployment.json" <<JSON
{"session": 5, "parties": [
  {"id": 0, "endpoint": "tcp://127.0.0.1:${ports[0]}", "public_key_file": "party0.pub"},
  {"id": 1, "endpoint": "tcp://127.0.0.1:${ports[1]}", "public_key_file": "party1.pub"},
  {"id": 2, "endpoint": "tcp://127.0.0.1:${ports[2]}", "public_key_file": "party2.pub"}]}
JSON

batch=16
seq=64
shared=(--deployment "$work/deployment.json" --d-model 64 --heads 2 --layers 2 --experts 4 --top-k 2
        --expert-hidden 128 --seq-len $seq --batch $batch --steps "$turns" --eval-windows 1)

seconds_of() { sed -n 's/^party 0: result.* train_seconds=\([^ ]*\).*/\1/p' "$1"; }

in_process() { # in_process WIRE LOG
    rm -rf "$work/state"
    "$pcmoe" party --in-process "${shared[@]}" --wire "$1" --checkpoints "$work/state" \
        --data "$work/text0.txt" --data "$work/text1.txt" --data "$work/text2.txt" > "$2" 2>&1
}

processes() { # processes WIRE LOG
    rm -rf "$work"/state-?
    pids=()
    for id in 0 1 2; do
        "$pcmoe" party "${shared[@]}" --wire "$1" --id "$id" --key "$work/party$id.key" \
            --data "$work/text$id.txt" --checkpoints "$work/state-$id" > "$2.$id" 2>&1 &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid"; done
    pids=()
    cp "$2.0" "$2"
}

echo ""
echo "PC-MoE, 3 parties, d_model 64, 2 layers, 4 experts, seq_len $seq, batch $batch, $turns turns:"
echo "one process (in-process transport) against three processes (ZeroMQ, CURVE, 127.0.0.1)"
echo ""
echo "| wire | one process µs/token | three processes µs/token | difference |"
echo "|---|---|---|---|"
tokens=$((turns * batch * seq))
for wire in f32 bf16; do
    best_local=""
    best_net=""
    for _ in 1 2; do
        in_process "$wire" "$work/local.log"
        processes "$wire" "$work/net.log"
        local_s=$(seconds_of "$work/local.log")
        net_s=$(seconds_of "$work/net.log")
        best_local=$(awk -v a="$local_s" -v b="${best_local:-1e9}" 'BEGIN { print (a < b ? a : b) }')
        best_net=$(awk -v a="$net_s" -v b="${best_net:-1e9}" 'BEGIN { print (a < b ? a : b) }')
    done
    awk -v w="$wire" -v a="$best_local" -v b="$best_net" -v n="$tokens" 'BEGIN {
        printf "| %s | %.1f | %.1f | %+.1f %% |\n", w, 1e6 * a / n, 1e6 * b / n, 100 * (b / a - 1) }'
done
