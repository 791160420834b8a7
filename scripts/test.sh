#!/usr/bin/env bash
# The whole test suite: every *_test.ts on Deno, then on Node (through tsx). Each runtime prints
# one line per test file, its failures in full and a summary line (scripts/deno_reporter.mjs,
# scripts/reporter.mjs, which also says how many tests were skipped for want of redis-server or
# redis-cli); the run ends with the totals alone on a line, `N passed, N failed`.
# Exits non-zero when any test fails, or a runtime fails outside its tests, on either runtime.
set -u
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
files=$(find tests core commands plugins replication -name '*_test.ts' 2>/dev/null | sort)
[ -n "$files" ] || { echo "no test files found"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0

echo "== deno test ($(echo "$files" | wc -l) files)"
# shellcheck disable=SC2086
NO_COLOR=1 deno test -A --parallel $files >"$work/deno.out" 2>&1
deno_status=$?
[ $deno_status -eq 0 ] || status=1
REDENO_TEST_COUNTS="$work/deno.counts" node scripts/deno_reporter.mjs $deno_status <"$work/deno.out" ||
  status=1

echo
echo "== node --test (tsx)"
# shellcheck disable=SC2086
REDENO_TEST_COUNTS="$work/node.counts" node --import tsx --test --test-concurrency=2 \
  --test-reporter=./scripts/reporter.mjs --test-reporter-destination=stdout $files || status=1

# `passed failed skipped` of each runtime; a runtime that wrote none failed before reporting.
read -r deno_pass deno_fail _ <"$work/deno.counts" 2>/dev/null || deno_fail=1
read -r node_pass node_fail _ <"$work/node.counts" 2>/dev/null || node_fail=1
passed=$((${deno_pass:-0} + ${node_pass:-0}))
failed=$((${deno_fail:-0} + ${node_fail:-0}))
# A runtime that exited non-zero with no failure counted (a crash, a failed reporter) is one.
[ $status -ne 0 ] && [ $failed -eq 0 ] && failed=1
[ $failed -ne 0 ] && status=1

echo "$passed passed, $failed failed"
exit $status
