#!/usr/bin/env bash
# Progress and streamed output as a user meets them: on a terminal (a pseudo-terminal made by
# script(1)) a progress line redrawn in place; with stderr in a file, no redraw sequences at all;
# --format ndjson writes one schema'd JSON line per base, each with its input index.
# Usage: progress_test.sh PATH/TO/fxrates
. "$(dirname "$0")/test_shell.sh"
fxrates=$1

bases=AUD,BGN,BRL,CAD,CHF,CNY,CZK,DKK,EUR,GBP,HKD,HRK,HUF,IDR,ILS,INR,ISK,JPY,KRW,MXN,MYR,NOK,NZD,PHP,PLN,RON,RUB,SEK,SGD,THB,TRY,USD,ZAR

# A server that takes 30 ms per answer: 33 bases one after another take about a second, long
# enough for the line to be redrawn with an estimate.
coproc server { exec "$fxrates" serve --port 0 --latency 30 --cert-out "$work/ca.pem" 2>&1; }
server_pid=$server_PID
IFS= read -r -t 20 line <&"${server[0]}" || { echo "FAIL: the server did not start"; exit 1; }
api=$(grep -o 'https://[^ ]*' <<<"$line")
run_args=(rates --api "$api" --cacert "$work/ca.pem" --strategy sequential --date 2019-04-09 --base "$bases")

# On a terminal: script gives the program a pseudo-terminal for stdin, stdout and stderr alike.
printf -v command '%q ' "$fxrates" "${run_args[@]}"
timeout 60 script -q -e -c "$command" "$work/typescript" >/dev/null </dev/null
code=$?
[ "$code" = 0 ] || fail "on a terminal: exit code $code"
grep -q $'\r\x1b\[K' "$work/typescript" || fail "on a terminal: no line redrawn in place"
grep -aq "fxrates rates: 33/33 done" "$work/typescript" || fail "on a terminal: the progress never reached 33/33"
grep -aq "about .* left" "$work/typescript" || fail "on a terminal: no estimate of the time left"
[ "$(grep -aoE '(^|\[K)1 [A-Z]{3} = ' "$work/typescript" | wc -l)" = 33 ] || fail "on a terminal: the matrix is not printed"

# In a narrow terminal the line is cut to fit its row: a line that wraps is not cleared by the next
# redraw, and the screen would fill with old lines.
timeout 60 script -q -e -c "stty cols 24; $command" "$work/narrow" >/dev/null </dev/null
code=$?
[ "$code" = 0 ] || fail "narrow terminal: exit code $code"
python3 - "$work/narrow" <<'PY' || fail "narrow terminal: a progress line longer than its row"
import sys
text = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
drawn = [part.split("\r")[0].split("\n")[0] for part in text.split("\r\x1b[K")[1:]]
progress = [line for line in drawn if line.startswith("fxrates rates")]
assert progress, "no progress line drawn"
assert all(len(line) <= 23 for line in progress), max(progress, key=len)
PY

# With --quiet, or stderr in a file: nothing but the output, no redraws.
timeout 60 script -q -e -c "$command --quiet" "$work/quiet" >/dev/null </dev/null
grep -q $'\x1b' "$work/quiet" && fail "--quiet on a terminal still draws progress"
"$fxrates" "${run_args[@]}" >"$work/out" 2>"$work/err"
[ $? = 0 ] || fail "stderr to a file: exit code $?"
[ -s "$work/err" ] && fail "stderr to a file: progress written to it: $(head -c 200 "$work/err" | od -c | head -3)"

# A failure on a terminal is printed as it happens, once, above the line (not again at the end):
# the API no longer has RUB rates.
printf -v failing '%q ' "$fxrates" rates --api "$api" --cacert "$work/ca.pem" --strategy sequential --base USD,RUB,PLN
timeout 60 script -q -e -c "$failing" "$work/failing" >/dev/null </dev/null
[ "$(grep -ac "RUB: " "$work/failing")" = 1 ] || fail "on a terminal: the failure is not printed exactly once: $(cat -v "$work/failing")"

# fetch on a terminal: a progress line while files are saved, none while the bodies themselves go
# to the terminal (it would cut into them).
printf -v fetching '%q ' "$fxrates" fetch --cacert "$work/ca.pem" --concurrency 1 "$api/rates?base=USD" \
    "$api/rates?base=EUR" "$api/rates?base=PLN"
timeout 60 script -q -e -c "$fetching -o $(printf %q "$work/saved") --name {index}.json" "$work/fetch-files" >/dev/null </dev/null
code=$?
[ "$code" = 0 ] || fail "fetch -o on a terminal: exit code $code"
grep -aq "fxrates fetch: 3/3 done" "$work/fetch-files" || fail "fetch -o on a terminal: no progress line"
timeout 60 script -q -e -c "$fetching" "$work/fetch-bodies" >/dev/null </dev/null
code=$?
[ "$code" = 0 ] || fail "fetch to a terminal: exit code $code"
[ "$(grep -ao '"base":"[A-Z]*"' "$work/fetch-bodies" | tr -d '\n')" = '"base":"USD""base":"EUR""base":"PLN"' ] ||
    fail "fetch to a terminal: the bodies are not there in order: $(cat -v "$work/fetch-bodies")"
grep -q $'\x1b' "$work/fetch-bodies" && fail "fetch to a terminal: a progress line drawn among the bodies"
kill "$server_pid" 2>/dev/null
wait "$server_pid" 2>/dev/null

# NDJSON: one line per base, each a JSON object with the schema and its input index, as it ends.
"$fxrates" rates --local --format ndjson --date 2019-04-09 --base "$bases" >"$work/ndjson" 2>"$work/err"
[ $? = 0 ] || fail "ndjson: exit code $?: $(cat "$work/err")"
python3 - "$work/ndjson" "$bases" <<'PY' || fail "ndjson: records are not what they should be"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
bases = sys.argv[2].split(",")
assert len(lines) == len(bases), f"{len(lines)} lines for {len(bases)} bases"
records = [json.loads(line) for line in lines]
for r in records:
    assert r["schema"] == "fxrates.rates/1", r
    assert bases[r["index"]] == r["base"], r
    assert r["rates"]["USD"] > 0, r
assert sorted(r["index"] for r in records) == list(range(len(bases)))
PY

finish_checks "progress"
