#!/usr/bin/env bash
# Machine-readable output as a script reads it: `rates --format json` names its schema and gives
# each failed base a structured error; `compare --format json|csv` is the comparison table as data,
# alone on stdout. Documents are parsed with Python's json and csv modules, not grepped.
# Usage: formats_test.sh PATH/TO/fxrates
. "$(dirname "$0")/test_shell.sh"
fxrates=$1
server_pid=
trap 'in_main_shell && { [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null; rm -rf "$work"; }' EXIT

run() { "$fxrates" "$@" >"$work/out" 2>"$work/err"; code=$?; }
# check NAME PYTHON: runs PYTHON with the document on stdin; an assertion that fails is a failure.
check() {
    local name=$1 script=$2
    python3 -c "import json, csv, sys
$script" <"$work/out" >"$work/why" 2>&1 || fail "$name: $(tail -3 "$work/why"); document: $(head -c 600 "$work/out")"
}

# rates: the schema first, a success, and a structured error whose server text is the API's own.
run rates --local --format json --base USD,XXX --symbols EUR --date 2019-04-09
[ "$code" = 2 ] || fail "rates json: exit code $code, expected 2: $(cat "$work/err")"
check "rates json" '
d = json.load(sys.stdin)
assert list(d) == ["schema", "results", "elapsed_seconds"], list(d)
assert d["schema"] == "fxrates.rates/1", d["schema"]
ok, bad = d["results"]
assert ok == {"base": "USD", "date": "2019-04-09", "rates": {"EUR": 0.886761}}, ok
assert bad["base"] == "XXX" and "rates" not in bad, bad
e = bad["error"]
assert list(e) == ["category", "code", "message", "detail", "server_text"], list(e)
assert e["category"] == "fxrates.http" and e["code"] == 400, e
assert e["message"].startswith("HTTP 400 Bad Request"), e
assert e["server_text"] == "Base currency '"'"'XXX'"'"' is not supported.", e
assert isinstance(d["elapsed_seconds"], float)'
grep -q "XXX: HTTP 400" "$work/err" || fail "rates json: the failure is not explained on stderr: $(cat "$work/err")"

# A server that fails on purpose: every base's error says so, in the HTTP or the client category.
ca="$work/ca.pem"
start_server() {
    coproc server { exec "$fxrates" serve --port 0 "$@" --cert-out "$ca" 2>&1; }
    server_pid=$server_PID
    port=
    if IFS= read -r -t 20 line <&"${server[0]}"; then port=$(sed -E 's|.*:([0-9]+) .*|\1|' <<<"$line"); fi
}
stop_server() {
    kill "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=
}
for fault in 500 bad-json; do
    start_server --fault "$fault:1"
    if [ -z "$port" ]; then
        fail "fault $fault: the server did not start"
        stop_server
        continue
    fi
    run rates --api "https://localhost:$port" --cacert "$ca" --base USD,EUR --retries 0 --format json
    stop_server
    [ "$code" = 1 ] || fail "fault $fault: exit code $code, expected 1: $(cat "$work/err")"
    if [ "$fault" = 500 ]; then
        expect='e["category"] == "fxrates.http" and e["code"] == 500 and e["server_text"] == "Internal Server Error"'
    else
        expect='e["category"] == "fxrates.client" and e["code"] > 0 and e["detail"] != ""'
    fi
    check "fault $fault" "
d = json.load(sys.stdin)
assert d['schema'] == 'fxrates.rates/1'
assert [r['base'] for r in d['results']] == ['USD', 'EUR']
for r in d['results']:
    e = r['error']
    assert set(e) == {'category', 'code', 'message', 'detail', 'server_text'}, e
    assert all(isinstance(e[k], str) for k in ('category', 'message', 'detail', 'server_text')), e
    assert isinstance(e['code'], int) and e['message'], e
    assert $expect, e"
done

# compare --format json: one record per strategy with every field, and nothing else on stdout.
strategies=(sequential thread-per-item thread-pool thread-pool-throttled process-pool async async-throttled offload)
run compare --local --latency 10 --format json --timeline "$work/t.svg"
[ "$code" = 0 ] || fail "compare json: exit code $code: $(cat "$work/err")"
check "compare json" "
d = json.load(sys.stdin)
assert d['schema'] == 'fxrates.compare/1', d
assert d['requests_per_strategy'] == 5 and d['api'] is None and d['latency_ms'] == 10.0, d
rows = d['strategies']
assert [r['strategy'] for r in rows] == '${strategies[*]}'.split(), rows
for r in rows:
    assert list(r) == ['strategy', 'wall_seconds', 'cpu_seconds', 'peak_threads', 'peak_rss_kib', 'speedup',
                       'requests', 'failed', 'interrupted'], r
    assert r['wall_seconds'] > 0 and r['cpu_seconds'] >= 0 and r['peak_rss_kib'] > 0 and r['peak_threads'] >= 1, r
    assert r['speedup'] > 0 and abs(r['speedup'] - rows[0]['wall_seconds'] / r['wall_seconds']) < 1e-9, r
    assert r['requests'] == 5 and r['failed'] == 0, r
assert rows[0]['speedup'] == 1.0"
grep -q "running process-pool" "$work/err" || fail "compare json: progress is not on stderr: $(cat "$work/err")"
[ "$(grep -o '<g class="lane"' "$work/t.svg" | wc -l)" = 8 ] || fail "compare json: the timeline is not drawn"

# compare --format csv: a header and one row per strategy, the same columns; no sequential run, so
# no speed-up.
run compare --local --latency 10 --repeat 2 --strategies async,thread-pool --format csv
[ "$code" = 0 ] || fail "compare csv: exit code $code: $(cat "$work/err")"
check "compare csv" "
rows = list(csv.reader(sys.stdin))
assert rows[0] == ['strategy', 'wall_seconds', 'cpu_seconds', 'peak_threads', 'peak_rss_kib', 'speedup',
                   'requests', 'failed', 'interrupted'], rows[0]
assert [r[0] for r in rows[1:]] == ['async', 'thread-pool'], rows
for r in rows[1:]:
    assert len(r) == 9 and float(r[1]) > 0 and float(r[2]) >= 0 and int(r[3]) >= 1 and int(r[4]) > 0, r
    assert r[5] == '' and r[6] == '10' and r[7] == '0' and r[8] == 'false', r"

run compare --local --format yaml
[ "$code" = 1 ] || fail "compare --format yaml: exit code $code, expected 1"

# Files it would write: an empty name, or one name for both, is refused before anything runs.
run compare --local --timeline ''
[ "$code" = 1 ] && grep -q "the value is empty" "$work/err" || fail "compare --timeline '': exit code $code: $(cat "$work/err")"
run compare --local --timeline "$work/same" --trace "$work/same"
[ "$code" = 1 ] && grep -q "name the same file" "$work/err" || fail "compare --timeline X --trace X: exit code $code: $(cat "$work/err")"

finish_checks "formats"
