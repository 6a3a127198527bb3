#!/usr/bin/env bash
# `fxrates compare` as a user runs it: the matrix, one table row per strategy, and a timeline and
# trace with one lane (process) per strategy and one bar (event) per request.
# Usage: compare_command_test.sh PATH/TO/fxrates
. "$(dirname "$0")/test_shell.sh"
fxrates=$1

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

# Ctrl-C while the second strategy runs: the first one's row and the matrix are printed, the one
# under way stops early, the rest are named as not run, exit code 130, soon. The signal goes to
# the whole process group, as a terminal sends it: the strategy's own processes (the process
# pool's workers) must be stopped by their parent, not die of it.
. "$(dirname "$0")/wait_for_exit.sh"
mkfifo "$work/stderr"
setsid "$fxrates" compare --local --strategies async,process-pool,sequential --latency 300 --repeat 4 \
    >"$work/out" 2>"$work/stderr" &
compare_pid=$!
exec {stderr_fd}<"$work/stderr"
: >"$work/err"
started=no
# Wait for the event itself: compare says it starts the second strategy.
while IFS= read -r -t 30 line <&"$stderr_fd"; do
    echo "$line" >>"$work/err"
    if [[ "$line" == "fxrates compare: running process-pool ("*")..." ]]; then started=yes; break; fi
done
cat <&"$stderr_fd" >>"$work/err" &
rest_of_stderr=$!
if [ "$started" = yes ]; then
    # The event: the pool's four workers exist, so that the signal finds them (looked for every
    # 20 ms, for 10 s at most).
    for ((tries = 0; tries < 500; tries++)); do
        strategy_pid=$(pgrep -P "$compare_pid" | head -1)
        [ -n "$strategy_pid" ] && [ "$(pgrep -P "$strategy_pid" | wc -l)" -ge 4 ] && break
        sleep 0.02
    done
    [ "$tries" -lt 500 ] || fail "Ctrl-C: the process pool's workers never started"
    interrupted=$(date +%s%N)
    kill -INT -- "-$compare_pid" 2>/dev/null || kill -INT "$compare_pid"
    wait_for_exit "$compare_pid" 10
    elapsed_ms=$((($(date +%s%N) - interrupted) / 1000000))
    wait "$rest_of_stderr"
    [ "$exit_code" = 130 ] || fail "Ctrl-C: exit code $exit_code, expected 130: $(cat "$work/err")"
    [ "$elapsed_ms" -lt 2000 ] || fail "Ctrl-C: took $elapsed_ms ms to exit"
    [ "$(grep -c '^1 [A-Z][A-Z][A-Z] = ' "$work/out")" = 5 ] || fail "Ctrl-C: the finished matrix is lost: $(cat "$work/out")"
    grep -Eq "^async +[0-9.]+ s" "$work/out" || fail "Ctrl-C: the finished strategy's row is lost: $(cat "$work/out")"
    grep -q "interrupted; .*not run: sequential" "$work/err" || fail "Ctrl-C: what did not run is not said: $(cat "$work/err")"
    ! grep -q "killed by signal" "$work/err" || fail "Ctrl-C: workers died of the signal: $(cat "$work/err")"
else
    fail "Ctrl-C: compare never started its second strategy: $(cat "$work/err")"
    kill "$compare_pid" 2>/dev/null
    wait "$rest_of_stderr"
fi
exec {stderr_fd}<&-

finish_checks "compare command"
