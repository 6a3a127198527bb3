#!/usr/bin/env bash
# `fxrates fetch --strategy` gives the same outputs whatever the strategy: the same files byte for
# byte, the same stdout, --field lines and report lines, the same exit code and failures; and
# `fxrates compare --urls` times the URL job under each strategy, with its table and timeline.
# Usage: fetch_strategies_test.sh PATH/TO/fxrates
. "$(dirname "$0")/test_shell.sh"
fxrates=$1
server_pid=
slow_pid=
cleanup() {
    in_main_shell || return
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    [ -n "$slow_pid" ] && kill "$slow_pid" 2>/dev/null && wait "$slow_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

coproc server { exec "$fxrates" serve --port 0 --cert-out "$work/ca.pem" 2>&1; }
server_pid=$server_PID
IFS= read -r -t 20 banner <&"${server[0]}" || { echo "FAIL: no banner from fxrates serve"; exit 1; }
[[ $banner =~ https://127\.0\.0\.1:([0-9]+) ]] || { echo "FAIL: unexpected banner: $banner"; exit 1; }
base=https://localhost:${BASH_REMATCH[1]}

# Twelve bodies to files, and one line that fails (its file must not appear).
for b in USD EUR PLN NOK CZK GBP JPY CHF SEK DKK HUF AUD; do
    echo "$base/rates?base=$b&date=2019-04-09 $b.json"
done >"$work/list.txt"
echo "$base/no-such-page missing.json" >>"$work/list.txt"

strategies="sequential thread-per-item thread-pool process-pool async offload"
pool_size() { # STRATEGY: --threads 3 for the pools, nothing for the others (which refuse it)
    case $1 in thread-pool | process-pool | offload) echo --threads 3 ;; esac
}
for s in $strategies; do
    "$fxrates" fetch --cacert "$work/ca.pem" --strategy "$s" $(pool_size "$s") -i "$work/list.txt" -o "$work/files-$s" \
        --report "$work/report-$s.jsonl" >"$work/out-$s" 2>"$work/err-$s"
    code=$?
    [ "$code" = 2 ] || fail "$s: exit code $code, expected 2: $(cat "$work/err-$s")"
    [ "$(ls -A "$work/files-$s" | grep -vcx .fxrates-meta)" = 12 ] || fail "$s: not 12 files: $(ls -A "$work/files-$s")"
    [ ! -e "$work/files-$s/missing.json" ] || fail "$s: the failed line left a file"
    grep -q "line 13: $base/no-such-page: the server answered HTTP 404" "$work/err-$s" ||
        fail "$s: the failure is not explained: $(cat "$work/err-$s")"
    [ "$(wc -l <"$work/report-$s.jsonl")" = 13 ] || fail "$s: not one report line per input line"
    "$fxrates" fetch --cacert "$work/ca.pem" --strategy "$s" $(pool_size "$s") "$base/rates?base=USD&date=2019-04-09" \
        "$base/rates?base=NOK&date=2019-04-09" >"$work/stdout-$s" 2>>"$work/err-$s" ||
        fail "$s: stdout run failed: $(cat "$work/err-$s")"
    "$fxrates" fetch --cacert "$work/ca.pem" --strategy "$s" "$base/rates?base=USD&date=2019-04-09" \
        "$base/rates?base=NOK&date=2019-04-09" --field /base --field /rates/EUR >"$work/fields-$s" 2>>"$work/err-$s" ||
        fail "$s: --field run failed: $(cat "$work/err-$s")"
done

# Byte-identical across strategies: every file, stdout, --field lines, and the report's
# status/bytes/sha256/file columns (timings differ).
report_columns() { grep -o '"status":[0-9]*,"bytes":[0-9]*\|"sha256":"[0-9a-f]*"\|"file":"[^"]*"' "$1"; }
# The validators' lines come in the order the files were saved: compared sorted, without the files'
# mtimes (each run saves at its own time).
validators() { sed -E 's/,"mtime_ns":[0-9]+//' "$1/.fxrates-meta" | sort; }
for s in $strategies; do
    [ "$s" = sequential ] && continue
    diff -r -x .fxrates-meta "$work/files-sequential" "$work/files-$s" >/dev/null || fail "$s: files differ from sequential's"
    cmp -s <(validators "$work/files-sequential") <(validators "$work/files-$s") ||
        fail "$s: validators differ from sequential's"
    cmp -s "$work/stdout-sequential" "$work/stdout-$s" || fail "$s: stdout differs from sequential's"
    cmp -s "$work/fields-sequential" "$work/fields-$s" || fail "$s: --field lines differ from sequential's"
    [ "$(report_columns "$work/report-sequential.jsonl")" = "$(report_columns "$work/report-$s.jsonl")" ] ||
        fail "$s: report differs from sequential's"
done
grep -q '"base":"USD"' "$work/files-sequential/USD.json" || fail "the files do not hold the bodies"
[ "$(grep -o '"base":"[A-Z]*"' "$work/stdout-sequential" | tr '\n' ' ')" = '"base":"USD" "base":"NOK" ' ] ||
    fail "stdout: bodies not in input order: $(head -c 200 "$work/stdout-sequential")"
[ "$(cut -f1 "$work/fields-sequential" | tr '\n' ' ')" = 'USD NOK ' ] || fail "--field: $(cat "$work/fields-sequential")"

# A name not offered is a usage error.
"$fxrates" fetch --strategy fibers "$base/x" >/dev/null 2>"$work/err" && fail "--strategy fibers was accepted"

# Ctrl-C under the threaded and process strategies, as under async: 130, the finished file kept,
# nothing else left, the unfinished lines listed. A second server never answers.
. "$(dirname "$0")/wait_for_exit.sh"
"$fxrates" serve --port 0 --fault stall:1 --cert-out "$work/slow-ca.pem" >"$work/slow.banner" 2>&1 &
slow_pid=$!
deadline=$((SECONDS + 20))
until grep -q serving "$work/slow.banner" || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.05; done
[[ $(cat "$work/slow.banner") =~ https://127\.0\.0\.1:([0-9]+) ]] || fail "no banner from the slow server"
slow=https://localhost:${BASH_REMATCH[1]}
cat "$work/slow-ca.pem" "$work/ca.pem" >"$work/both-ca.pem"
for b in USD EUR PLN; do echo "$slow/rates?base=$b $b.json"; done >"$work/slow.txt"
echo "$base/rates?base=NOK NOK.json" >>"$work/slow.txt"
for s in thread-per-item thread-pool process-pool offload; do
    "$fxrates" fetch --cacert "$work/both-ca.pem" --strategy "$s" $(pool_size "$s" | sed 's/3/4/') -i "$work/slow.txt" -o "$work/int-$s" \
        >"$work/int-out" 2>"$work/int-err" &
    client=$!
    # Until NOK is saved (the others are under way: --threads 4), at most 20 s.
    deadline=$((SECONDS + 20))
    until [ -e "$work/int-$s/NOK.json" ] || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.05; done
    kill -INT "$client"
    wait_for_exit "$client" 10
    [ "$exit_code" = 130 ] || fail "$s: Ctrl-C: exit code $exit_code, expected 130: $(cat "$work/int-err")"
    [ "$(ls -A "$work/int-$s" | grep -vx .fxrates-meta)" = NOK.json ] || fail "$s: Ctrl-C: expected only the finished file: $(ls -A "$work/int-$s")"
    grep -q "interrupted; 1 of 4 fetched, 0 failed, not finished (lines of the input): 1, 2, 3" "$work/int-err" ||
        fail "$s: Ctrl-C: the unfinished lines are not listed: $(cat "$work/int-err")"
done
# One thread: lines 2 to 4 wait for it when Ctrl-C comes. They were not started, and say so, as
# with async: on stderr, and in the report (attempts 0).
for s in thread-pool process-pool offload; do
    "$fxrates" fetch --cacert "$work/both-ca.pem" --strategy "$s" --threads 1 -i "$work/slow.txt" -o "$work/one-$s" \
        --report "$work/one-$s.jsonl" >"$work/int-out" 2>"$work/int-err" &
    client=$!
    deadline=$((SECONDS + 20)) # until the first body has begun (a partial file), at most 20 s
    until [ -n "$(find "$work/one-$s" -name '.*' ! -name .fxrates-meta 2>/dev/null)" ] || [ "$SECONDS" -ge "$deadline" ]; do
        sleep 0.05
    done
    kill -INT "$client"
    wait_for_exit "$client" 10
    grep -q "interrupted; 0 of 4 fetched, 0 failed, not finished (lines of the input): 1, not started: 3 URLs, lines 2 to 4" \
        "$work/int-err" || fail "$s: Ctrl-C, one thread: the lines not started are not said: $(cat "$work/int-err")"
    [ "$(grep -c '"attempts":0,.*"not started: the run was interrupted"' "$work/one-$s.jsonl")" = 3 ] ||
        fail "$s: Ctrl-C, one thread: the report does not say which lines were not started: $(cat "$work/one-$s.jsonl")"
done

# compare --urls: one row per strategy, a lane per strategy and a bar per URL in the timeline.
"$fxrates" compare --urls "$work/list.txt" --cacert "$work/ca.pem" --strategies sequential,thread-pool,process-pool,async \
    --threads 4 --timeline "$work/t.svg" >"$work/compare.out" 2>"$work/compare.err"
code=$?
[ "$code" = 2 ] || fail "compare --urls: exit code $code, expected 2 (one URL fails): $(cat "$work/compare.err")"
for s in sequential thread-pool process-pool async; do
    grep -q "^ *$s " "$work/compare.out" || fail "compare --urls: no row for $s: $(cat "$work/compare.out")"
done
[ "$(grep -c '<g class="lane"' "$work/t.svg")" = 4 ] || fail "compare --urls: not one lane per strategy"
[ "$(grep -c '<g class="request' "$work/t.svg")" = 52 ] || fail "compare --urls: not one bar per URL and strategy"
grep -q "data-url=\"$base/rates?base=USD&amp;date=2019-04-09\"" "$work/t.svg" || fail "compare --urls: bars not named by URL"

# --template and --values give the same job.
printf 'USD\nEUR\n' >"$work/values.txt"
"$fxrates" compare --template "$base/rates?base={}" --values "$work/values.txt" --cacert "$work/ca.pem" \
    --strategies sequential,async >"$work/compare2.out" 2>"$work/compare2.err" ||
    fail "compare --template: exit code $?: $(cat "$work/compare2.err")"
grep -q "^ *async " "$work/compare2.out" || fail "compare --template: no row for async"

finish_checks "fetch strategies"
