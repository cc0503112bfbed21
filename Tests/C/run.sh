#!/usr/bin/env bash
# The C-side checks of libpcmoe, run by `make test` after `make lib` and an
# install into BUILD/prefix:
#   - the header compiles as strict C11 and C++17;
#   - libpcmoe.so exports exactly the functions the header declares, and
#     has a SONAME and no Swift library among its dependencies;
#   - the C tests pass and call every declared function at least once
#     (their sessions run over the hub and over ZeroMQ on 127.0.0.1);
#   - the three-party example runs;
#   - both run under valgrind memcheck with no errors and no definite leaks;
#   - the example builds against the installed prefix with pkg-config alone.
#
#   Tests/C/run.sh BUILD        (default .build/c)
#
# Prints one line per check, then "N passed, M failed"; exits 1 on a failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:-.build/c}
lib=$build/lib
prefix=$build/prefix
passed=0
failed=0

check() {
    local name=$1
    shift
    if "$@" >"$build/last.log" 2>&1; then
        echo "ok    $name"
        passed=$((passed + 1))
    else
        echo "FAIL  $name"
        sed 's/^/      /' "$build/last.log" | tail -40
        failed=$((failed + 1))
    fi
}

header_c() { echo '#include <pcmoe.h>' | cc -std=c11 -Wall -Wextra -Werror -pedantic -Iinclude -x c -fsyntax-only -; }
header_cpp() { echo '#include <pcmoe.h>' | g++ -std=c++17 -Wall -Wextra -Werror -pedantic -Iinclude -x c++ -fsyntax-only -; }

# Compares two sorted name lists and prints the names in only one of them.
same_names() {
    local only_header only_other
    only_header=$(comm -23 "$1" "$2")
    only_other=$(comm -13 "$1" "$2")
    [[ -z $only_header && -z $only_other ]] && return 0
    [[ -n $only_header ]] && echo "declared by the header only: $only_header"
    [[ -n $only_other ]] && echo "$3 only: $only_other"
    return 1
}

exports_match() {
    nm -D --defined-only "$lib/libpcmoe.so" | awk '$2 ~ /^[TDBRVW]$/ {sub(/@.*/, "", $3); print $3}' | sort -u >"$build/exported.txt"
    same_names "$build/declared.txt" "$build/exported.txt" "exported by libpcmoe.so"
}

has_soname() { readelf -d "$lib/libpcmoe.so" | grep -q 'SONAME.*libpcmoe\.so\.[0-9]'; }

no_swift_libraries() {
    ldd "$lib/libpcmoe.so"
    ! ldd "$lib/libpcmoe.so" | grep -Ei 'swift|Foundation|dispatch|BlocksRuntime'
}

cflags=(-std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -pedantic -O1 -g -Iinclude -Iexamples/c)
# Lazy binding makes the dynamic linker bind each function at its first
# call, which call_audit.so records; the audit library is built on its own.
# The network tests write their own CURVE key pairs with libzmq.
tests=(Tests/C/fixtures.c Tests/C/network_fixtures.c Tests/C/*_test.c)
build_test() {
    cc "${cflags[@]}" "${tests[@]}" examples/c/queue_transport.c -L"$lib" -lpcmoe -lzmq -lpthread -lm -Wl,-z,lazy \
        -o "$build/abi_test" &&
        cc -std=c11 -Wall -Wextra -Werror -O1 -shared -fPIC Tests/C/call_audit.c -o "$build/call_audit.so"
}
build_example() { cc "${cflags[@]}" examples/c/*.c -L"$lib" -lpcmoe -lpthread -o "$build/example"; }

# Runs the tests with the audit library, which lists every pcmoe_ function
# called at least once, and compares that list with the header's.
run_test() {
    rm -f "$build/called.log"
    LD_LIBRARY_PATH=$lib LD_AUDIT=$PWD/$build/call_audit.so PCMOE_CALL_LOG=$PWD/$build/called.log "$build/abi_test"
}

test_calls_everything() {
    sort -u "$build/called.log" >"$build/called.txt"
    same_names "$build/declared.txt" "$build/called.txt" "called by the tests"
}
run_example() { LD_LIBRARY_PATH=$lib "$build/example" --rounds 3; }

memcheck=(valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite --quiet)
valgrind_test() { LD_LIBRARY_PATH=$lib "${memcheck[@]}" "$build/abi_test"; }
valgrind_example() { LD_LIBRARY_PATH=$lib "${memcheck[@]}" "$build/example" --tiny --rounds 2; }

installed_example() {
    local flags
    flags=$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs pcmoe) || return 1
    echo "pkg-config: $flags"
    # shellcheck disable=SC2086
    cc examples/c/*.c $flags -o "$build/installed_example" || return 1
    LD_LIBRARY_PATH=$prefix/lib "$build/installed_example" --tiny --rounds 2
}

mkdir -p "$build"
Tests/C/header_functions.sh include/pcmoe.h >"$build/declared.txt"
echo "the header declares $(wc -l <"$build/declared.txt") functions"
check "the header compiles as C11 with -Wall -Wextra -Werror -pedantic" header_c
check "the header compiles as C++17 with -Wall -Wextra -Werror -pedantic" header_cpp
check "libpcmoe.so exports exactly the functions the header declares" exports_match
check "libpcmoe.so has a SONAME" has_soname
check "libpcmoe.so needs no Swift library (ldd)" no_swift_libraries
check "the C tests build" build_test
check "the C tests pass" run_test
check "the C tests call every declared function at least once" test_calls_everything
check "the example builds" build_example
check "the example trains three parties" run_example
check "the C tests run clean under valgrind memcheck" valgrind_test
check "the example runs clean under valgrind memcheck" valgrind_example
check "the example builds with pkg-config against the installed prefix and runs" installed_example
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
