#!/usr/bin/env bash
# The whole test suite: every *_test.ts on Deno, then on Node (through tsx).
# Exits non-zero when any test fails on either runtime.
set -u
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
files=$(find tests core commands plugins replication -name '*_test.ts' 2>/dev/null | sort)
[ -n "$files" ] || { echo "no test files found"; exit 1; }
status=0
echo "== deno test"
# shellcheck disable=SC2086
deno test -A --parallel $files || status=1
echo "== node --test (tsx)"
# shellcheck disable=SC2086
node --import tsx --test --test-concurrency=2 $files || status=1
exit $status
