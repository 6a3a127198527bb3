#!/usr/bin/env bash
# `fxrates compare` as a user runs it: the matrix, one table row per strategy, and a timeline and
# trace with one lane (process) per strategy and one bar (event) per request.
# Usage: compare_command_test.sh PATH/TO/fxrates
set -uo pipefail
fxrates=$1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
work=$(mktemp -d "$PWD/compare_command_test.XXXXXX")
main_shell=$BASHPID
trap '[ "$BASHPID" = "$main_shell" ] && rm -rf "$work"' EXIT

"$fxrates" compare --local --latency 20 --repeat 2 --timeline "$work/t.svg" --trace "$work/t.json" \
    >"$work/out" 2>"$work/err"
code=$?
[ "$code" = 0 ] || fail "exit code $code: $(cat "$work/err")"
[ "$(grep -c '^1 [A-Z][A-Z][A-Z] = ' "$work/out")" = 5 ] || fail "the matrix is not printed once: $(cat "$work/out")"
for strategy in sequential thread-per-item thread-pool thread-pool-throttled process-pool async async-throttled offload; do
    grep -Eq "^$strategy +[0-9.]+ s +[0-9.]+ s +[0-9]+ +[0-9.]+ MiB +[0-9.]+x$" "$work/out" ||
        fail "no table row for $strategy"
done
[ "$(grep -o '<g class="lane"' "$work/t.svg" | wc -l)" = 8 ] || fail "the timeline does not have 8 lanes"
[ "$(grep -o '<g class="request' "$work/t.svg" | wc -l)" = 80 ] || fail "the timeline does not have 80 bars"
[ "$(grep -o '"process_name"' "$work/t.json" | wc -l)" = 8 ] || fail "the trace does not name 8 processes"
[ "$(grep -o '"cat":"request"' "$work/t.json" | wc -l)" = 80 ] || fail "the trace does not have 80 requests"

"$fxrates" compare --local --strategies async,nonsense >"$work/out" 2>"$work/err"
[ $? = 1 ] || fail "an unknown strategy is not a usage error"

if [ "$failures" -eq 0 ]; then echo "compare command: all checks passed"; fi
exit "$failures"
