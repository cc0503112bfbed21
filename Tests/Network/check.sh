#!/usr/bin/env bash
# Checks `pcmoe party` as separate processes on 127.0.0.1:
#   1. three processes over ZeroMQ with CURVE give bitwise the turn losses of
#      the same run with every party in one process (--in-process);
#   2. a party killed with SIGKILL mid-run and started again from its
#      checkpoint folder rejoins, the run completes, and every turn's loss
#      (its last report) equals the uninterrupted run's;
#   3. after the run, with two parties under `pcmoe serve`, the third one's
#      `pcmoe score` and seeded `pcmoe generate` equal the in-process ones,
#      and its `pcmoe export` fails naming the one owner that refuses.
#
#   Tests/Network/check.sh [PCMOE_BINARY]    (default .build/release/pcmoe)
#
# Prints one line per check, then "N passed, M failed"; exits 1 when any
# check failed. Binds only to free ports of 127.0.0.1 and stops every
# process it starts. Runs in well under a minute.
set -euo pipefail

pcmoe=${1:-.build/release/pcmoe}
if [[ ! -x $pcmoe ]]; then
    echo "check.sh: error: pcmoe binary '$pcmoe' not found or not executable; build it or pass its path" >&2
    exit 2
fi
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -9 "$pid" 2> /dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

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

# Three deterministic texts of about 12 kB from different word lists.
words=("the a of to in and model expert router token layer"
       "ship sail wind harbour rope deck anchor tide crew mast"
       "bread flour oven salt yeast crust knead dough loaf rye")
for id in 0 1 2; do
    awk -v list="${words[$id]}" -v seed=$((id + 3)) 'BEGIN {
        n = split(list, w, " "); x = seed
        for (i = 0; i < 2400; i++) { x = (x * 1103515245 + 12345) % 2147483648; printf "%s%s", w[x % n + 1], (i % 11 == 10 ? ".\n" : " ") }
    }' > "$work/text$id.txt"
done

read -r -a ports <<< "$(python3 -c 'import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')"
for id in 0 1 2; do "$pcmoe" keygen --out "$work/party$id" > /dev/null; done
cat > "$work/deployment.json" <<JSON
{"session": 99, "parties": [
  {"id": 0, "endpoint": "tcp://127.0.0.1:${ports[0]}", "public_key_file": "party0.pub"},
  {"id": 1, "endpoint": "tcp://127.0.0.1:${ports[1]}", "public_key_file": "party1.pub"},
  {"id": 2, "endpoint": "tcp://127.0.0.1:${ports[2]}", "public_key_file": "party2.pub"}]}
JSON

shared=(--deployment "$work/deployment.json" --d-model 64 --heads 4 --layers 2 --experts 6 --top-k 2
        --expert-hidden 256 --seq-len 128 --steps 30 --batch 8 --lr 3e-3 --eval-windows 16 --threads 1
        --call-timeout 2 --retries 1 --wait-timeout 10 --join-timeout 60)

# The reference: every party in this process.
"$pcmoe" party --in-process "${shared[@]}" --checkpoints "$work/in-process" \
    --data "$work/text0.txt" --data "$work/text1.txt" --data "$work/text2.txt" \
    --backbone-seed 500 --backbone-seed 501 --backbone-seed 502 > "$work/in-process.log" 2>&1
turn_losses() { # the last "turn T loss L" per turn, from the given logs
    cat "$@" | sed -n 's/^party \([0-9]*\): turn \([0-9]*\) loss \([^ ]*\).*/\2 \1 \3/p' |
        awk '{ last[$1] = $0 } END { for (t in last) print last[t] }' | sort -n
}
turn_losses "$work/in-process.log" > "$work/reference.txt"

start_party() { # start_party ID LOG
    "$pcmoe" party "${shared[@]}" --id "$1" --key "$work/party$1.key" --data "$work/text$1.txt" \
        --checkpoints "$work/net-$1" --backbone-seed $((500 + $1)) >> "$2" 2>&1 &
    pids+=($!)
}
wait_all() { local status=0; for pid in "$@"; do wait "$pid" || status=1; done; return $status; }

# 1. Three processes over ZeroMQ.
pids=()
for id in 0 1 2; do start_party "$id" "$work/net$id.log"; done
check "three processes finish" wait_all "${pids[@]}"
turn_losses "$work"/net?.log > "$work/network.txt"
check "the reference has 30 turns" test "$(wc -l < "$work/reference.txt")" -eq 30
check "the processes' turn losses equal the in-process run bitwise" cmp -s "$work/reference.txt" "$work/network.txt"
check "each process reports its peak resident set" \
    test "$(grep -h 'result' "$work"/net?.log | grep -c 'vmhwm_bytes=[1-9]')" -eq 3

# 2. Party 1 is killed after its turn 11 and started again from its checkpoints.
rm -rf "$work"/net-?
pids=()
for id in 0 1 2; do start_party "$id" "$work/kill$id.log"; done
killed=no
for _ in $(seq 1 6000); do
    if grep -q '^party 1: turn 11 ' "$work/kill1.log" 2> /dev/null; then
        kill -9 "${pids[1]}"
        killed=yes
        break
    fi
    sleep 0.01
done
check "party 1 was killed mid-run" test "$killed" = yes
wait "${pids[1]}" 2> /dev/null || true
sleep 1
start_party 1 "$work/kill1.log"
check "the parties finish after the restart" wait_all "${pids[0]}" "${pids[2]}" "${pids[3]}"
turn_losses "$work"/kill?.log > "$work/resumed.txt"
check "every turn's loss equals the uninterrupted run's" cmp -s "$work/reference.txt" "$work/resumed.txt"
check "every party resumed from a checkpoint" \
    test "$(grep -l 'joined, resuming after turn [1-9]' "$work"/kill?.log | wc -l)" -eq 3
check "party 0 reports the break" grep -q 'the session broke' "$work/kill0.log"

# 3. Inference after training: parties 1 and 2 serve their experts, and party 0
# scores, generates and tries to export over the network. The same party in
# one process, from the reference run's checkpoints, must give the same results.
net=(--deployment "$work/deployment.json" --call-timeout 5 --retries 1)
serve_pids=()
"$pcmoe" serve "${net[@]}" --id 1 --key "$work/party1.key" --checkpoints "$work/net-1" --allow-export 0 \
    > "$work/serve1.log" 2>&1 &
serve_pids+=($!)
"$pcmoe" serve "${net[@]}" --id 2 --key "$work/party2.key" --checkpoints "$work/net-2" > "$work/serve2.log" 2>&1 &
serve_pids+=($!)
pids+=("${serve_pids[@]}")
party0=("${net[@]}" --id 0 --key "$work/party0.key" --checkpoints "$work/net-0")
alone0=(--in-process --checkpoints "$work/in-process" --id 0)
loss_of() { sed -n 's/.*"loss":\([^,}]*\).*/\1/p' "$1"; }
"$pcmoe" score "${party0[@]}" --data "$work/text0.txt" --split validation --json > "$work/score-net.json" 2>> "$work/infer.log" || true
"$pcmoe" score "${alone0[@]}" --data "$work/text0.txt" --split validation --json > "$work/score-alone.json" || true
check "a network score equals the in-process score" \
    test -n "$(loss_of "$work/score-net.json")" -a "$(loss_of "$work/score-net.json")" = "$(loss_of "$work/score-alone.json")"
sampling=(--prompt "the model " --max-bytes 40 --temperature 0.9 --top-k 20 --seed 5)
"$pcmoe" generate "${party0[@]}" "${sampling[@]}" > "$work/generate-net.txt" 2>> "$work/infer.log" || true
"$pcmoe" generate "${alone0[@]}" "${sampling[@]}" > "$work/generate-alone.txt" || true
check "network generation writes 40 bytes" test "$(wc -c < "$work/generate-net.txt")" -eq 40
check "seeded generation over the network equals the in-process one" \
    cmp -s "$work/generate-net.txt" "$work/generate-alone.txt"
export_status=0
"$pcmoe" export "${party0[@]}" --out "$work/whole.safetensors" > /dev/null 2> "$work/export.log" || export_status=$?
check "an export refused by party 2 fails naming only party 2" \
    eval '[ "$export_status" -eq 1 ] && grep -q "party 2 refuses to send its experts to party 0" "$work/export.log" &&
          ! grep -q "party 1 refuses" "$work/export.log"'
check "the refused export writes nothing" test ! -e "$work/whole.safetensors"
kill -TERM "${serve_pids[@]}"
check "the servers stop on SIGTERM" wait_all "${serve_pids[@]}"
check "each server reports what it served" \
    test "$(grep -l 'stopped on SIGTERM after sending [1-9]' "$work"/serve?.log | wc -l)" -eq 2

echo "$passed passed, $failed failed"
if [ "$failed" -ne 0 ]; then
    for log in "$work"/*.log; do echo "== $log"; tail -n 8 "$log"; done
    exit 1
fi
