#!/usr/bin/env bash
# Prints the name of every function include/pcmoe.h declares, one per line,
# sorted. A declaration is a line that starts with a type and contains
# "pcmoe_name(" outside a typedef.
#
#   Tests/C/header_functions.sh [HEADER]    (default include/pcmoe.h)
set -euo pipefail
header=${1:-include/pcmoe.h}
grep -E '^[a-z][a-z0-9_ ]*[ *]pcmoe_[a-z0-9_]+\(' "$header" \
    | grep -v '^typedef' \
    | sed -E 's/.*[ *](pcmoe_[a-z0-9_]+)\(.*/\1/' \
    | sort -u
