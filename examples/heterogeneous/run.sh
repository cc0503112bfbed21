#!/usr/bin/env bash
# Trains one model with three parties hosted by three runtimes: party 0 by a
# C++ program, party 1 by a Rust program and party 2 by a Go program. Each
# uses its language's binding of libpcmoe, and they talk over ZeroMQ with
# CURVE on 127.0.0.1. The script builds the three host programs, writes the
# keys and the deployment file, starts the processes, and prints a table
# from the "result" line each one prints.
#
#   examples/heterogeneous/run.sh PREFIX [WORK_DIR]
#
# PREFIX is an installed pcmoe (lib/, include/, lib/pkgconfig/pcmoe.pc), as
# `make install-lib PREFIX=...` writes; `make test` uses .build/c/prefix.
# Needs g++, cargo and go (`make deps` installs them).
#
# Environment:
#   PCMOE      the pcmoe binary, for keygen (default: .build/release/pcmoe)
#   STEPS      turns in the run, all parties together (default 60)
#   SESSION    the session id (default 4242)
#   DATA0..2   each party's training text (default: the Debian corpora of the demo)
set -euo pipefail

if [ "$#" -lt 1 ] || [ "$#" -gt 2 ]; then
    echo "usage: $0 PREFIX [WORK_DIR]" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
prefix=$(cd "$1" && pwd)
work=${2:-$(mktemp -d /tmp/pcmoe-heterogeneous.XXXXXX)}
pcmoe=${PCMOE:-$root/.build/release/pcmoe}
steps=${STEPS:-60}
session=${SESSION:-4242}
data=("${DATA0:-/usr/share/games/fortunes}" "${DATA1:-/usr/share/dictd/jargon.dict.dz}"
      "${DATA2:-/usr/share/dictd/devil.dict.dz}")
runtimes=(cpp rust go)
mkdir -p "$work/bin"
[ -x "$pcmoe" ] || { echo "error: $pcmoe is missing; run 'swift build -c release' first." >&2; exit 1; }
if compgen -G "$work/checkpoints-*/turns-*" > /dev/null; then
    echo "error: $work already contains the checkpoints of a run, which the parties would resume; give a new folder." >&2
    exit 1
fi

echo "building the host programs against $prefix"
for runtime in "${runtimes[@]}"; do
    "$here/$runtime/build.sh" "$prefix" "$work/bin" > "$work/build-$runtime.log" 2>&1 ||
        { echo "error: building the $runtime host failed:" >&2; tail -n 20 "$work/build-$runtime.log" >&2; exit 1; }
done

# Three free ports: the kernel picks them, and the sockets are closed at once.
read -r -a ports <<< "$(python3 -c 'import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')"
for id in 0 1 2; do
    [ -f "$work/party$id.key" ] || "$pcmoe" keygen --out "$work/party$id" > /dev/null
done
cat > "$work/deployment.json" <<JSON
{"session": $session,
 "parties": [
  {"id": 0, "endpoint": "tcp://127.0.0.1:${ports[0]}", "public_key_file": "party0.pub"},
  {"id": 1, "endpoint": "tcp://127.0.0.1:${ports[1]}", "public_key_file": "party1.pub"},
  {"id": 2, "endpoint": "tcp://127.0.0.1:${ports[2]}", "public_key_file": "party2.pub"}]}
JSON

pids=()
stop_all() { for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done; }
trap stop_all EXIT
for id in 0 1 2; do
    "$work/bin/host-${runtimes[$id]}" "$work/deployment.json" "$id" "$work/party$id.key" "${data[$id]}" \
        "$work/checkpoints-$id" "$steps" "$session" > "$work/party$id.log" 2>&1 &
    pids+=($!)
done
echo "started party 0 (C++), party 1 (Rust) and party 2 (Go); logs in $work/party*.log"

status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
trap - EXIT
if [ "$status" -ne 0 ]; then
    echo "error: a party failed; the last lines of each log:" >&2
    for id in 0 1 2; do tail -n 3 "$work/party$id.log" >&2; done
    exit 1
fi

field() { sed -n "s/^party $1 (.*): result.* $2=\([^ ]*\).*/\1/p" "$work/party$1.log"; }
printf '\n| party | runtime | corpus | first loss | last loss | val loss (nats) | bits/byte | sent bytes | received bytes | messages sent | messages received |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|\n'
for id in 0 1 2; do
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$id" "$(field "$id" runtime)" \
        "$(basename "${data[$id]}")" "$(field "$id" first_loss)" "$(field "$id" last_loss)" "$(field "$id" val_loss)" \
        "$(field "$id" bits_per_byte)" "$(field "$id" sent_bytes)" "$(field "$id" received_bytes)" \
        "$(field "$id" messages_sent)" "$(field "$id" messages_received)"
done
echo "work folder: $work"
