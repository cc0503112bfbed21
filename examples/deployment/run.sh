#!/usr/bin/env bash
# Runs three pcmoe parties as three processes on 127.0.0.1, each with its own
# key pair, corpus and checkpoint folder, and prints a table assembled from
# the "result" line each party prints at the end.
#
#   examples/deployment/run.sh [WORK_DIR]
#
# Environment:
#   PCMOE      the pcmoe binary (default: .build/release/pcmoe)
#   PORT       first of three consecutive free TCP ports (default: picked free)
#   STEPS      turns in the run, all parties together (default 60)
#   DATA0..2   each party's training text (default: the Debian corpora of the demo)
#   EXTRA      more options for every party, such as "--wire bf16"
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=${1:-$(mktemp -d /tmp/pcmoe-deployment.XXXXXX)}
pcmoe=${PCMOE:-$root/.build/release/pcmoe}
steps=${STEPS:-60}
data=("${DATA0:-/usr/share/games/fortunes}" "${DATA1:-/usr/share/dictd/jargon.dict.dz}"
      "${DATA2:-/usr/share/dictd/devil.dict.dz}")
mkdir -p "$work"
if compgen -G "$work/checkpoints-*/turns-*" > /dev/null; then
    echo "error: $work already holds the checkpoints of a run, which the parties would resume; give a new folder." >&2
    exit 1
fi

[ -x "$pcmoe" ] || { echo "error: $pcmoe is missing; run 'swift build -c release' first." >&2; exit 1; }

# Three free ports: asks the kernel for them, then releases them.
free_ports() {
    python3 -c 'import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))'
}
if [ -n "${PORT:-}" ]; then ports=("$PORT" $((PORT + 1)) $((PORT + 2))); else read -r -a ports <<< "$(free_ports)"; fi

# Keys: one pair per party; the public halves go into the deployment file.
for id in 0 1 2; do
    [ -f "$work/party$id.key" ] || "$pcmoe" keygen --out "$work/party$id" > /dev/null
done
cat > "$work/deployment.json" <<JSON
{"session": 7001,
 "parties": [
  {"id": 0, "endpoint": "tcp://127.0.0.1:${ports[0]}", "public_key_file": "party0.pub"},
  {"id": 1, "endpoint": "tcp://127.0.0.1:${ports[1]}", "public_key_file": "party1.pub"},
  {"id": 2, "endpoint": "tcp://127.0.0.1:${ports[2]}", "public_key_file": "party2.pub"}]}
JSON

# The same model and training options for every party.
shared=(--d-model 64 --heads 4 --layers 2 --experts 6 --top-k 2 --expert-hidden 128 --seq-len 64
        --steps "$steps" --batch 8 --lr 2e-3 --eval-windows 64 --call-timeout 30 --wait-timeout 120)

pids=()
stop_all() { for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done; }
trap stop_all EXIT
for id in 0 1 2; do
    # shellcheck disable=SC2086
    "$pcmoe" party --deployment "$work/deployment.json" --id "$id" --key "$work/party$id.key" \
        --data "${data[$id]}" --checkpoints "$work/checkpoints-$id" --backbone-seed $((1000 + id)) \
        "${shared[@]}" ${EXTRA:-} > "$work/party$id.log" 2>&1 &
    pids+=($!)
done
echo "started parties 0, 1 and 2 (logs in $work/party*.log); waiting for $steps turns"

status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
trap - EXIT
if [ "$status" -ne 0 ]; then
    echo "error: a party failed; the last lines of each log:" >&2
    for id in 0 1 2; do tail -n 3 "$work/party$id.log" >&2; done
    exit 1
fi

# The table, from each party's own "result" line.
field() { sed -n "s/.*party $1: result.* $2=\([^ ]*\).*/\1/p" "$work/party$1.log"; }
printf '\n| party | corpus | val loss (nats) | bits/byte | turns | sent MiB | received MiB | peak tensors MiB | VmHWM MiB |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'
for id in 0 1 2; do
    awk -v id="$id" -v corpus="$(basename "${data[$id]}")" -v loss="$(field $id val_loss)" \
        -v bpb="$(field $id bits_per_byte)" -v turns="$(field $id turns)" -v sent="$(field $id bytes_sent)" \
        -v received="$(field $id bytes_received)" -v tensors="$(field $id peak_tensor_bytes)" \
        -v hwm="$(field $id vmhwm_bytes)" 'BEGIN {
        printf "| %d | %s | %.4f | %.4f | %d | %.2f | %.2f | %.2f | %.1f |\n", id, corpus, loss, bpb, turns,
            sent / 1048576, received / 1048576, tensors / 1048576, hwm / 1048576 }'
done
