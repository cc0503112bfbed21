#!/usr/bin/env bash
# Tests the C++ binding against an installed pcmoe:
#   - every public header of the binding compiles on its own;
#   - the README's example is examples/train.cpp;
#   - the tests, the example and the
#     heterogeneous host build with g++ -std=c++17 -Wall -Wextra -Werror
#     -pedantic and `pkg-config --cflags --libs pcmoe`;
#   - the tests pass, then pass again under valgrind memcheck with no
#     errors and no definite leaks, and the example trains;
#   - bindings/cpp/include calls every function PREFIX/include/pcmoe.h declares.
#
#   bash bindings/cpp/test.sh PREFIX
#
# Builds in a temporary folder that it removes at the end. The network
# test needs three CURVE key pairs, which the pcmoe CLI writes: $PCMOE_CLI,
# else PREFIX/bin/pcmoe, else .build/release/pcmoe of this repository.
# Prints one line per step, then "N passed, M failed"; exits 1 on a failure.
set -uo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 PREFIX" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
prefix=$(cd "$1" && pwd) || exit 2
header=$prefix/include/pcmoe.h
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
export LD_LIBRARY_PATH=$prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

build=$(mktemp -d /tmp/pcmoe-cpp-build.XXXXXX)
trap 'rm -rf "$build"' EXIT
cd "$here" || exit 2

passed=0
failed=0
# Runs a step, prints its result, and shows the end of its output on failure.
step() {
    local name=$1 start=$SECONDS
    shift
    if "$@" >"$build/step.log" 2>&1; then
        echo "ok    $name ($((SECONDS - start)) s)"
        passed=$((passed + 1))
    else
        echo "FAIL  $name ($((SECONDS - start)) s)"
        sed 's/^/      /' "$build/step.log" | tail -40
        failed=$((failed + 1))
    fi
}

cxx=(g++ -std=c++17 -Wall -Wextra -Werror -pedantic -pthread -Iinclude)
pcmoe_flags() { pkg-config --cflags --libs pcmoe; }

# Compiles each public header alone, two at a time.
headers_compile() {
    local flags
    flags=$(pkg-config --cflags pcmoe) || return 1
    export flags here
    printf '%s\n' include/pcmoe.hpp include/pcmoe/*.hpp | xargs -P 2 -I '{}' bash -c \
        'echo "#include \"$here/{}\"" | g++ -std=c++17 -Wall -Wextra -Werror -pedantic $flags -x c++ -fsyntax-only -'
}

# Compiles each test file in its own job, two at a time, then links.
build_tests() {
    local flags pids=() objects=() file object status=0
    flags=$(pcmoe_flags) || return 1
    for file in tests/*.cpp; do
        object=$build/$(basename "$file" .cpp).o
        objects+=("$object")
        # shellcheck disable=SC2086
        "${cxx[@]}" -O0 -g $(pkg-config --cflags pcmoe) -c "$file" -o "$object" &
        pids+=($!)
        if [[ ${#pids[@]} -ge 2 ]]; then
            wait "${pids[0]}" || status=1
            pids=("${pids[@]:1}")
        fi
    done
    for pid in "${pids[@]}"; do wait "$pid" || status=1; done
    [[ $status -eq 0 ]] || return 1
    # shellcheck disable=SC2086
    "${cxx[@]}" "${objects[@]}" $flags -o "$build/pcmoe-cpp-test"
}

build_example() {
    # shellcheck disable=SC2086
    "${cxx[@]}" -O1 examples/train.cpp $(pcmoe_flags) -o "$build/train"
}

build_host() { bash "$root/examples/heterogeneous/cpp/build.sh" "$prefix" "$build"; }

find_cli() {
    local candidate
    for candidate in "${PCMOE_CLI:-}" "$prefix/bin/pcmoe" "$root/.build/release/pcmoe"; do
        if [[ -n $candidate && -x $candidate ]]; then
            echo "$candidate"
            return 0
        fi
    done
    echo "the pcmoe CLI was not found; set PCMOE_CLI to it" >&2
    return 1
}

make_keys() {
    local cli id
    cli=$(find_cli) || return 1
    mkdir -p "$build/keys"
    for id in 0 1 2; do
        "$cli" keygen --out "$build/keys/party$id" || return 1
    done
}

run_tests() { "$build/pcmoe-cpp-test" "$build/keys"; }

run_example() { "$build/train" 8; }

memcheck=(valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite)
valgrind_tests() {
    if ! command -v valgrind >/dev/null; then
        echo "valgrind is missing; install it with 'apt-get install valgrind'"
        return 1
    fi
    "${memcheck[@]}" "$build/pcmoe-cpp-test" "$build/keys" >"$build/valgrind.log" 2>&1
    local status=$?
    grep -E '^(FAIL|[0-9]+ passed)|ERROR SUMMARY|definitely lost' "$build/valgrind.log"
    return $status
}

# Compares the first ```cpp block under "## Example" in README.md with examples/train.cpp.
readme_example_matches() {
    awk '/^## Example$/ {section = 1} section && /^```cpp$/ {inside = 1; next} inside && /^```$/ {exit} inside' \
        README.md >"$build/readme-example.cpp"
    diff -u examples/train.cpp "$build/readme-example.cpp"
}

# Lists the functions the header declares that no code line of
# include/ calls as ::name( (comment lines do not count).
calls_every_function() {
    local declared missing=() name
    declared=$(grep -oE '\bpcmoe_[a-z0-9_]+\(' "$header" | tr -d '(' | sort -u)
    [[ -n $declared ]] || { echo "no function found in $header"; return 1; }
    for name in $declared; do
        if ! grep -rhF "::$name(" include | grep -vqE '^[[:space:]]*//' ; then
            missing+=("$name")
        fi
    done
    echo "$header declares $(wc -w <<<"$declared") functions"
    [[ ${#missing[@]} -eq 0 ]] && return 0
    echo "not called in bindings/cpp/include: ${missing[*]}"
    return 1
}

step "every public header compiles on its own" headers_compile
step "the tests build" build_tests
step "the README's example is examples/train.cpp" readme_example_matches
step "the example builds" build_example
step "the heterogeneous host builds" build_host
step "three key pairs are written with pcmoe keygen" make_keys
if [[ -x $build/pcmoe-cpp-test ]]; then
    echo "-- the tests"
    if run_tests; then
        echo "ok    the tests pass"
        passed=$((passed + 1))
    else
        echo "FAIL  the tests pass"
        failed=$((failed + 1))
    fi
    step "the tests run clean under valgrind memcheck" valgrind_tests
fi
step "the example trains" run_example
step "the binding calls every function of pcmoe.h" calls_every_function
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
