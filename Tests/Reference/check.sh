#!/usr/bin/env bash
# Checks pcmoe against the independent C implementation of docs/model.md in
# this folder: logits of trained checkpoints, and the initialisation.
#
#   Tests/Reference/check.sh [PCMOE_BINARY]    (default .build/release/pcmoe)
#
# Prints one line per comparison, then "N passed, M failed", and exits 1 when
# any comparison failed. Needs cc and awk. Runs in a few seconds.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pcmoe=${1:-.build/release/pcmoe}
if [[ ! -x $pcmoe ]]; then
    echo "check.sh: error: pcmoe binary '$pcmoe' not found or not executable; build it or pass its path" >&2
    exit 2
fi
pcmoe=$(cd "$(dirname "$pcmoe")" && pwd)/$(basename "$pcmoe")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cflags=(-O2 -std=c11 -Wall -Wextra -Werror)
cc "${cflags[@]}" -o "$work/model_reference" "$here/model_reference.c" -lm
cc "${cflags[@]}" -o "$work/compare_logits" "$here/compare_logits.c" -lm

# A deterministic text of about 20 kB: words picked by a linear congruential
# generator, so the run does not depend on files outside the repository.
awk 'BEGIN {
    split("the a byte model expert router token layer head gate norm loss step " \
          "with and of to in on mixture attention rotary weight sum", words, " ")
    state = 12345
    for (i = 0; i < 3500; i++) {
        state = (state * 1103515245 + 12345) % 2147483648
        printf "%s%s", words[1 + int(state / 65536) % 24], (i % 13 == 12 ? ".\n" : " ")
    }
}' > "$work/text.txt"

passed=0
failed=0

# record LABEL COMMAND...: runs the command, prints LABEL and its last output
# line, and counts the result.
record() {
    local label=$1
    shift
    local output status=0
    output=$("$@" 2>&1) || status=$?
    if [[ $status -eq 0 ]]; then
        passed=$((passed + 1))
        echo "ok    $label: ${output##*$'\n'}"
    else
        failed=$((failed + 1))
        echo "FAIL  $label: ${output##*$'\n'}"
    fi
}

train() {
    local checkpoint=$1
    shift
    "$pcmoe" train --data "$work/text.txt" --batch 4 --out "$checkpoint" --overwrite \
        --threads 1 --log-every 1000 "$@" > "$work/train.log"
}

# compare_inputs NAME CHECKPOINT SEQ_LEN: a full seq_len input, a 5-byte
# input with bytes above 127, and a 1-byte input.
compare_inputs() {
    local name=$1 checkpoint=$2 seq_len=$3 input
    head -c "$seq_len" "$work/text.txt" > "$work/full.bin"
    printf '\xff\x00\x80Q ' > "$work/short.bin"
    printf 'e' > "$work/one.bin"
    for input in full short one; do
        "$pcmoe" logits --checkpoint "$checkpoint" --input "$work/$input.bin" \
            --out "$work/pcmoe.logits" --overwrite > /dev/null
        "$work/model_reference" "$checkpoint" "$work/$input.bin" "$work/reference.logits"
        record "$name, $input input" "$work/compare_logits" "$work/pcmoe.logits" \
            "$work/reference.logits" 1e-4
    done
}

# Top-2 of 4 experts, 4 heads of width 8, 2 layers.
train "$work/top2.ckpt" --d-model 32 --heads 4 --layers 2 --experts 4 --top-k 2 \
    --expert-hidden 24 --seq-len 32 --steps 8 --lr 1e-2
compare_inputs "d32 h4 L2 E4 k2" "$work/top2.ckpt" 32

# Top-1 of 3 experts, 2 heads of width 12, 3 layers.
train "$work/top1.ckpt" --d-model 24 --heads 2 --layers 3 --experts 3 --top-k 1 \
    --expert-hidden 16 --seq-len 24 --steps 8 --lr 1e-2 --seed 7
compare_inputs "d24 h2 L3 E3 k1" "$work/top1.ckpt" 24

# Top-3 of 6 experts, 2 heads of width 4, and a seed above 2^63.
train "$work/top3.ckpt" --d-model 8 --heads 2 --layers 2 --experts 6 --top-k 3 \
    --expert-hidden 12 --seq-len 20 --steps 8 --lr 2e-2 --seed 18446744073709551615
compare_inputs "d8 h2 L2 E6 k3" "$work/top3.ckpt" 20

# pcmoe rejects --steps 0 and --lr 0, so an untrained checkpoint is one step
# at a learning rate of 1e-30: the update is far below float32 resolution and
# the weights must equal the initialisation exactly.
init_sizes=(--d-model 16 --heads 2 --layers 2 --experts 4 --top-k 2 --expert-hidden 24 --seq-len 16
    --steps 1 --seed 1)
train "$work/init.ckpt" "${init_sizes[@]}" --lr 1e-30
record "initialisation, seed 1, learning rate 1e-30" \
    "$work/model_reference" init "$work/init.ckpt" 0 0

# One real step at the full learning rate (all of the one step is warm-up),
# taken back with the checkpoint's AdamW moments: this also checks the
# optimizer update, including that weight decay comes before the Adam step.
train "$work/step1.ckpt" "${init_sizes[@]}" --lr 1e-2 --warmup 1
record "initialisation, one AdamW step taken back" \
    "$work/model_reference" init "$work/step1.ckpt" 0 1e-6

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
