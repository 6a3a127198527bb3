#!/usr/bin/env bash
# `fxrates rates` as a user runs it: the book's table byte for byte, JSON and CSV for scripts,
# exit codes 0 / 2 / 1, and clear messages for bad input and for no network.
# Usage: rates_command_test.sh PATH/TO/fxrates
. "$(dirname "$0")/test_shell.sh"
fxrates=$1
out=$work/out
err=$work/err

run() { "$fxrates" "$@" >"$out" 2>"$err"; code=$?; }

# The seed's matrix for 2019-04-09, checked against Python's format(x, "7.03") on the same rates.
expected='1 USD =     1.0 USD,   0.887 EUR,     3.8 PLN,    8.53 NOK,    22.7 CZK
1 EUR =    1.13 USD,     1.0 EUR,    4.29 PLN,    9.62 NOK,    25.6 CZK
1 PLN =   0.263 USD,   0.233 EUR,     1.0 PLN,    2.24 NOK,    5.98 CZK
1 NOK =   0.117 USD,   0.104 EUR,   0.446 PLN,     1.0 NOK,    2.66 CZK
1 CZK =   0.044 USD,   0.039 EUR,   0.167 PLN,   0.375 NOK,     1.0 CZK'
run rates --local --date 2019-04-09
[ "$code" = 0 ] || fail "table: exit code $code: $(cat "$err")"
[ "$(head -5 "$out")" = "$expected" ] && [ -z "$(sed -n 6p "$out")" ] || fail "table: not the book's matrix:
$(cat "$out")"
grep -Eq '^time elapsed: [0-9]+\.[0-9]{2}s$' "$out" || fail "table: no 'time elapsed: N.NNs' line"

run rates --local --base NOK,usd --date 2019-04-09
[ "$code" = 0 ] || fail "lower-case base: exit code $code: $(cat "$err")"
[ "$(sed -n 2p "$out")" = "1 USD =     1.0 USD,   0.887 EUR,     3.8 PLN,    8.53 NOK,    22.7 CZK" ] ||
    fail "--base order not kept or usd not upper-cased: $(cat "$out")"

run rates --local --format json --date 2019-04-09
[ "$code" = 0 ] || fail "json: exit code $code"
grep -q '^{"schema":"fxrates.rates/1","results":\[{"base":"USD","date":"2019-04-09","rates":{"USD":1.0,"EUR":0.886761,' "$out" ||
    fail "json: unexpected document: $(head -c 200 "$out")"

run rates --local --format csv --base USD --date 2019-04-09
[ "$(cat "$out")" = 'base,date,USD,EUR,PLN,NOK,CZK,error
USD,2019-04-09,1.0,0.886761,3.801543,8.529751,22.717035,' ] || fail "csv: unexpected: $(cat "$out")"

run rates --local --base USD,XXX --date 2019-04-09
[ "$code" = 2 ] || fail "partial failure: exit code $code, expected 2"
grep -q '^1 USD = ' "$out" || fail "partial failure: the USD row is missing"
grep -q "XXX: HTTP 400" "$err" || fail "partial failure: XXX not explained on stderr: $(cat "$err")"
grep -q "Base currency 'XXX' is not supported" "$err" || fail "partial failure: the API's text is missing"

run rates --local --base XXX,QQQ
[ "$code" = 1 ] || fail "all failed: exit code $code, expected 1"

run rates --local --base US
[ "$code" = 1 ] || fail "--base US: exit code $code, expected 1"
grep -q "'US' is not a currency code" "$err" || fail "--base US: message does not name the input: $(cat "$err")"

run rates --local --date 2024-02-30
[ "$code" = 1 ] || fail "--date 2024-02-30: exit code $code, expected 1"
grep -q "2024-02-30" "$err" || fail "--date: message does not name the input"

run rates --local --api https://example.com
[ "$code" = 1 ] || fail "--local with --api: exit code $code, expected 1"

run rates --api http://api.vatcomply.com
[ "$code" = 1 ] || fail "http:// API: exit code $code, expected 1"
grep -q "https://" "$err" || fail "http:// API: message does not say to use https://: $(cat "$err")"

# No network here (and .invalid never resolves anywhere): one line naming the host, suggesting --local.
run rates --api https://rates.fxrates.invalid --timeout 10
[ "$code" = 1 ] || fail "no network: exit code $code, expected 1"
[ "$(wc -l <"$err")" -eq 1 ] || fail "no network: expected one line, got: $(cat "$err")"
grep -q "rates.fxrates.invalid" "$err" || fail "no network: the host is not named"
grep -q -- "--local" "$err" || fail "no network: --local is not suggested"

for bad in 0 -1 abc; do
    run rates --local --rate "$bad"
    [ "$code" = 1 ] || fail "--rate $bad: exit code $code, expected 1"
    grep -q "positive number of requests per second" "$err" || fail "--rate $bad: unclear message: $(cat "$err")"
done

# --concurrency is the async client's: refused with a strategy that runs its own way.
run rates --local --strategy thread-pool --concurrency 2
[ "$code" = 1 ] && grep -q -- "--concurrency is the async strategy's; --strategy thread-pool runs --threads N" "$err" ||
    fail "--concurrency with thread-pool: exit code $code: $(cat "$err")"
run rates --local --strategy sequential --threads 2
[ "$code" = 1 ] && grep -q -- "--threads is the pools' (thread-pool, process-pool, offload); --strategy sequential runs one" "$err" ||
    fail "--threads with sequential: exit code $code: $(cat "$err")"
run rates --local --strategy async-throttled --concurrency 2 --date 2019-04-09
[ "$code" = 0 ] || fail "--concurrency with async-throttled: exit code $code: $(cat "$err")"

# --rate holds whatever the strategy (for a strategy's threads or processes together).
for strategy in sequential thread-per-item process-pool offload; do
    run rates --local --strategy "$strategy" --rate 50 --date 2019-04-09
    [ "$code" = 0 ] && grep -q "^1 NOK = " "$out" || fail "--rate with --strategy $strategy: exit code $code: $(cat "$err")"
done

for strategy in sequential thread-per-item thread-pool process-pool async offload; do
    run rates --local --strategy "$strategy" --date 2019-04-09
    [ "$code" = 0 ] || fail "--strategy $strategy: exit code $code: $(cat "$err")"
    [ "$(head -5 "$out")" = "$expected" ] || fail "--strategy $strategy: not the same matrix"
done

# A CA file that holds no certificate fails every request: said once, before anything is sent,
# whatever the strategy, not once per base and thread.
echo "not a certificate" >"$out.pem"
for strategy in async thread-pool process-pool; do
    run rates --api https://localhost:1 --cacert "$out.pem" --strategy "$strategy" --base USD,EUR
    [ "$code" = 1 ] || fail "--cacert garbage ($strategy): exit code $code, expected 1"
    [ "$(wc -l <"$err")" = 1 ] && grep -q "^fxrates rates: --cacert .*: .*; give a PEM file" "$err" ||
        fail "--cacert garbage ($strategy): not one clear line: $(cat "$err")"
done
rm -f "$out.pem"

# Ctrl-C during a slow run: the finished rows are printed, the unfinished bases named, exit code
# 130, promptly (not after the stalled answers). Half the answers stall (the seed makes it
# repeatable). With --format json, the document holds every base: the unfinished ones with their
# error, as a script reading it expects.
. "$(dirname "$0")/wait_for_exit.sh"
ca=$work/ca.pem
coproc server { exec "$fxrates" serve --port 0 --fault stall:0.5 --seed 3 --log-requests --cert-out "$ca" 2>&1; }
server_pid=$server_PID
bases=(USD EUR PLN NOK CZK GBP JPY CHF)
interrupt_run() { # FORMAT
    "$fxrates" rates --api "https://localhost:$port" --cacert "$ca" --format "$1" \
        --base "$(IFS=,; echo "${bases[*]}")" >"$out" 2>"$err" &
    client=$!
    # Wait for the event itself: the server has seen every request (answered or stalled).
    seen=0 server_saw=
    while [ "$seen" -lt "${#bases[@]}" ] && IFS= read -r -t 20 line <&"${server[0]}"; do
        seen=$((seen + 1))
        server_saw+="$line; "
    done
    [ "$seen" = "${#bases[@]}" ] || fail "Ctrl-C ($1): the server saw $seen of ${#bases[@]} requests"
    interrupted=$(date +%s%N)
    kill -INT "$client"
    wait_for_exit "$client" 5
    elapsed_ms=$((($(date +%s%N) - interrupted) / 1000000))
    [ "$exit_code" = 130 ] || fail "Ctrl-C ($1): exit code $exit_code, expected 130: $(cat "$err")"
    # A hang check, not a speed test: the stalled answers would take 10 s and more.
    [ "$elapsed_ms" -lt 3000 ] || fail "Ctrl-C ($1): took $elapsed_ms ms to exit"
    grep -q "interrupted; not finished: " "$err" ||
        fail "Ctrl-C ($1): the unfinished bases are not listed (exit code $exit_code after $elapsed_ms ms): $(cat "$err") $(cat "$out") [files: $(ls -la --time-style=full-iso "$out" "$err" 2>&1 | tr '\n' ' ')]"
}
if IFS= read -r -t 20 line <&"${server[0]}"; then
    port=$(sed -E 's|.*:([0-9]+) .*|\1|' <<<"$line")
    interrupt_run table
    for base in "${bases[@]}"; do
        grep -q "^1 $base = " "$out" || grep -Eq "not finished: (.*, )?$base(,|$)" "$err" ||
            fail "Ctrl-C: $base is neither printed nor listed as unfinished (the server saw: $server_saw)"
    done
    interrupt_run json
    python3 - "$out" "${bases[@]}" <<'PY' || fail "Ctrl-C (json): the document does not hold every base: $(cat "$out")"
import json, sys
document = json.load(open(sys.argv[1]))
results = document["results"]
assert [r["base"] for r in results] == sys.argv[2:], results
assert all(("rates" in r) != ("error" in r) for r in results), results
assert any(r.get("error", {}).get("detail") == "cancelled before the answer came" for r in results), results
PY
else
    fail "Ctrl-C: the server did not start"
fi
kill "$server_pid" 2>/dev/null
wait "$server_pid" 2>/dev/null
rm -f "$ca"

# A server that was reached but reset every connection before answering: the network is fine, so
# not "cannot reach" and no --local hint; the server is named as the one that gave no answer.
coproc resetting { exec "$fxrates" serve --port 0 --fault reset:1 --cert-out "$ca" 2>&1; }
resetting_pid=$resetting_PID
if IFS= read -r -t 20 line <&"${resetting[0]}"; then
    port=$(sed -E 's|.*:([0-9]+) .*|\1|' <<<"$line")
    run rates --api "https://localhost:$port" --cacert "$ca" --retries 0
    [ "$code" = 1 ] || fail "resetting server: exit code $code, expected 1"
    grep -q "no answer from https://localhost:$port" "$err" && ! grep -q -- "cannot reach\|--local" "$err" ||
        fail "resetting server: blamed the network: $(cat "$err")"
else
    fail "resetting server: it did not start"
fi
kill "$resetting_pid" 2>/dev/null
wait "$resetting_pid" 2>/dev/null
rm -f "$ca"

finish_checks "rates command"
