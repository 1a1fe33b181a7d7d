#!/usr/bin/env bash
# run-unit-tests.sh - runs cmocka test binaries and prints one summary line
# "N passed, N failed" over all of them. Fails if any test fails, if a binary
# crashes, or if no test ran at all.
set -u
passed=0
failed=0
for bin in "$@"; do
    out=$("$bin" 2>&1)
    rc=$?
    printf '%s\n' "$out"
    p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
    if [ $rc -ne 0 ] && [ "${f:-0}" = 0 ]; then
        echo "run-unit-tests: $bin exited with status $rc" >&2
        failed=$((failed + 1))
    fi
done
echo "unit: $passed passed, $failed failed"
[ $failed -eq 0 ] && [ $passed -gt 0 ]
