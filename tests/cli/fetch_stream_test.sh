#!/usr/bin/env bash
# `fxrates fetch` reads a long list as it goes: from a pipe, memory does not grow with the list's
# length (peak RSS of 2,000 and 20,000 lines compared, read by the parent from getrusage, not a
# time); a bad line within the first 10,000 lines of a pipe is a usage error before anything is
# sent, one further on fails that line alone; the report accounts for every line, in order; and a
# slow writer of the list holds nothing up.
# Usage: fetch_stream_test.sh PATH/TO/fxrates
. "$(dirname "$0")/test_shell.sh"
fxrates=$1
server_pid=
cleanup() {
    in_main_shell || return
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

coproc server { exec "$fxrates" serve --port 0 --plain-port 0 --cert-out "$work/ca.pem" 2>&1; }
server_pid=$server_PID
IFS= read -r -t 20 banner <&"${server[0]}" || { echo "FAIL: no banner from fxrates serve"; exit 1; }
[[ $banner =~ plain\ http://127\.0\.0\.1:([0-9]+) ]] || { echo "FAIL: unexpected banner: $banner"; exit 1; }
base=http://127.0.0.1:${BASH_REMATCH[1]}

# Peak RSS in KiB of `fxrates fetch` reading LINES lines of /bytes/64 from a pipe, report to a file.
peak_rss() { # LINES REPORT
    python3 - "$fxrates" "$base" "$1" "$2" <<'PY'
import resource, subprocess, sys
fxrates, base, lines, report = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
fetch = subprocess.Popen([fxrates, "fetch", "-q", "-i", "-", "--report", report],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
for i in range(1, lines + 1):
    fetch.stdin.write(f"{base}/bytes/64?i={i}\n".encode())
fetch.stdin.close()
code = fetch.wait(timeout=300)
print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
}
read -r code small < <(peak_rss 2000 "$work/small.jsonl")
[ "$code" = 0 ] || fail "2,000 lines: exit $code"
read -r code large < <(peak_rss 20000 "$work/large.jsonl")
[ "$code" = 0 ] || fail "20,000 lines: exit $code"
[ "$(wc -l <"$work/large.jsonl")" = 20000 ] || fail "20,000 lines: $(wc -l <"$work/large.jsonl") report lines"
# In input order, each line once, every one fetched.
python3 - "$work/large.jsonl" <<'PY' || fail "20,000 lines: the report is not one ok record per line in order"
import json, sys
records = [json.loads(line) for line in open(sys.argv[1])]
assert [r["index"] for r in records] == list(range(1, 20001)), "order"
assert all(r["ok"] and r["bytes"] == 64 for r in records), "outcomes"
PY
# Held whole, 18,000 more lines cost tens of MiB (an outcome, a request and a sink each); read as
# they go, nothing. The sanitizers keep freed memory for a while: there the growth says nothing.
. "$(dirname "$0")/sanitizers.sh"
if is_sanitized "$fxrates"; then
    echo "sanitized build: peak RSS $small KiB for 2,000 lines, $large KiB for 20,000 (not compared)"
elif [ $((large - small)) -gt 8192 ]; then
    fail "memory grows with the list: peak RSS $small KiB for 2,000 lines, $large KiB for 20,000"
fi

# A bad line early in a pipe: a usage error, before anything is sent (no report is even opened).
{ echo "$base/bytes/1"; echo "not a url"; echo "$base/bytes/2"; } |
    "$fxrates" fetch -q -i - --report "$work/early.jsonl" >"$work/out" 2>"$work/err"
code=$?
[ "$code" = 1 ] || fail "bad line 2 of a pipe: exit $code, expected 1"
grep -q "line 2" "$work/err" || fail "bad line 2 of a pipe: the line is not named: $(cat "$work/err")"
[ ! -e "$work/early.jsonl" ] || fail "bad line 2 of a pipe: the run started all the same"

# A bad line past what is checked ahead: that line fails, in its place; the others are fetched.
{ for i in $(seq 10005); do echo "$base/bytes/0?i=$i"; done; echo "htp://bad"; echo "$base/bytes/3"; } |
    "$fxrates" fetch -q -i - --report "$work/late.jsonl" >"$work/out" 2>"$work/err"
code=$?
[ "$code" = 2 ] || fail "bad line 10006 of a pipe: exit $code, expected 2: $(head -3 "$work/err")"
grep -q "line 10006" "$work/err" || fail "bad line 10006: not named: $(head -3 "$work/err")"
python3 - "$work/late.jsonl" <<'PY' || fail "bad line 10006: the report does not account for every line in order"
import json, sys
records = [json.loads(line) for line in open(sys.argv[1])]
assert len(records) == 10007, len(records)
assert [r["line"] for r in records] == list(range(1, 10008))
assert not records[10005]["ok"] and all(r["ok"] for i, r in enumerate(records) if i != 10005)
PY

# A slow writer holds up nothing: line 1 is fetched while line 2 has not been written (the event
# loop never waits on the pipe), and Ctrl-C while the pipe is quiet ends the run at once, with
# what was fetched. The writer waits for the report's line (deadline 20 s), never for a time.
python3 - "$fxrates" "$base" "$work" <<'PY' || fail "a slow writer of the list held the run up (see above)"
import os, signal, subprocess, sys, time
fxrates, base, work = sys.argv[1:4]
def started(report_name, extra=()):
    report = os.path.join(work, report_name)
    fetch = subprocess.Popen([fxrates, "fetch", "-q", "-i", "-", "--report", report, *extra],
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    fetch.stdin.write(f"{base}/bytes/5?slow=1\n".encode())
    fetch.stdin.flush()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if os.path.exists(report) and open(report).read().count("\n") >= 1:
            return fetch
        if fetch.poll() is not None:
            sys.exit(f"fetch exited {fetch.returncode} before line 2 was written: {fetch.stderr.read()!r}")
        time.sleep(0.01)
    fetch.kill()
    sys.exit("line 1 was not fetched while the writer was quiet (the loop waits on the pipe)")
fetch = started("slow.jsonl")
fetch.stdin.write(f"{base}/bytes/6?slow=2\n".encode())
fetch.stdin.close()
if fetch.wait(timeout=20) != 0:
    sys.exit(f"slow writer: exit {fetch.returncode}")
if open(os.path.join(work, "slow.jsonl")).read().count('"ok":true') != 2:
    sys.exit("slow writer: not two ok records")
fetch = started("quiet.jsonl")
fetch.send_signal(signal.SIGINT)
try:
    code = fetch.wait(timeout=20)
except subprocess.TimeoutExpired:
    fetch.kill()
    sys.exit("Ctrl-C while the list's pipe was quiet did not end the run")
err = fetch.stderr.read().decode()
if code != 130 or "1 of 1 fetched" not in err:
    sys.exit(f"Ctrl-C on a quiet pipe: exit {code}, {err!r}")
PY

# A FIFO no writer has opened yet holds up nothing either: the URL given as an argument is fetched,
# and Ctrl-C ends the run (the reader waits for the writer where it can be stopped).
mkfifo "$work/fifo"
. "$(dirname "$0")/wait_for_exit.sh"
"$fxrates" fetch -q "$base/bytes/7?fifo" -i "$work/fifo" --report "$work/fifo.jsonl" >/dev/null 2>"$work/err" &
fifo_fetch=$!
deadline=$((SECONDS + 20))
until grep -q '"ok":true' "$work/fifo.jsonl" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.01; done
kill -INT "$fifo_fetch"
wait_for_exit "$fifo_fetch" 20
[ "$exit_code" = 130 ] || fail "Ctrl-C while -i FIFO has no writer: exit $exit_code, expected 130: $(cat "$work/err")"

# With stdin closed, -i - is a usage error that says so (not a list read from a pipe of its own).
"$fxrates" fetch -q "$base/bytes/1" -i - <&- >/dev/null 2>"$work/err"
code=$?
[ "$code" = 1 ] && grep -q "cannot read stdin: it is closed" "$work/err" ||
    fail "-i - with stdin closed: exit $code: $(cat "$work/err")"

# A line longer than any URL (64 KiB) is a bad line, named, not a reason to grow without end.
{ echo "$base/bytes/1"; head -c 100000 /dev/zero | tr '\0' a; echo; } |
    "$fxrates" fetch -q -i - >"$work/out" 2>"$work/err"
code=$?
[ "$code" = 1 ] && grep -q "line 2: longer than 64 KiB" "$work/err" ||
    fail "a 100 kB line: exit $code, $(cat "$work/err")"

# --loops 2 gives the files, the report and the stdout that --loops 1 gives, from two origins
# (TLS and plain), each body once, in input order.
[[ $banner =~ https://127\.0\.0\.1:([0-9]+) ]] || fail "no https port in the banner"
tls=https://localhost:${BASH_REMATCH[1]}
for i in $(seq 300); do
    echo "$tls/bytes/$((i * 37))?i=$i"
    echo "$base/site/page-$((i % 40 + 1)).html?i=$i"
done >"$work/two-origins.txt"
same_report() { # A B: the reports without their timings
    python3 - "$1" "$2" <<'PY'
import json, sys
def load(path):
    keep = ("index", "line", "url", "status", "bytes", "sha256", "file", "ok")
    return [{k: r.get(k) for k in keep} for r in map(json.loads, open(path))]
a, b = load(sys.argv[1]), load(sys.argv[2])
assert len(a) == 600 and a == b, "reports differ"
PY
}
for loops in 1 2; do
    "$fxrates" fetch -q --cacert "$work/ca.pem" -i "$work/two-origins.txt" -o "$work/loops$loops" --name '{index}' \
        --loops "$loops" --report "$work/loops$loops.jsonl" 2>"$work/err" || fail "--loops $loops -o: exit $?: $(cat "$work/err")"
    "$fxrates" fetch -q --cacert "$work/ca.pem" -i "$work/two-origins.txt" --loops "$loops" >"$work/stdout$loops" \
        2>"$work/err" || fail "--loops $loops to stdout: exit $?: $(cat "$work/err")"
done
diff -r -x .fxrates-meta "$work/loops1" "$work/loops2" >/dev/null || fail "--loops 2 saved other files than --loops 1"
# The validators' lines come in the order the files were saved: compared sorted, without
# the files' mtimes (each run saves at its own time).
validators() { sed -E 's/,"mtime_ns":[0-9]+//' "$1/.fxrates-meta" | sort; }
cmp -s <(validators "$work/loops1") <(validators "$work/loops2") ||
    fail "--loops 2 kept other validators than --loops 1"
same_report "$work/loops1.jsonl" "$work/loops2.jsonl" || fail "--loops 2 reported otherwise than --loops 1"
cmp -s "$work/stdout1" "$work/stdout2" || fail "--loops 2 printed other bytes than --loops 1"
[ "$(find "$work/loops2" -type f ! -name .fxrates-meta | wc -l)" = 600 ] || fail "--loops 2: not 600 files"
"$fxrates" fetch -q --loops 2 --strategy thread-pool "$base/bytes/1" >/dev/null 2>"$work/err"
[ $? = 1 ] && grep -q -- "--loops runs the async strategy" "$work/err" || fail "--loops with --strategy: not refused"
# --loops spends one retry budget for the run: 10 URLs that fail (nothing listens on port 1) with
# --retries 3 make max(20% of 10, 3) + 10 = 13 attempts in all, as one loop does.
for i in $(seq 10); do echo "http://127.0.0.1:1/x$i"; done >"$work/refused.txt"
for loops in 1 4; do
    "$fxrates" fetch -q --loops "$loops" --retries 3 -i "$work/refused.txt" --report "$work/refused-$loops.jsonl" \
        -o "$work/refused-$loops" 2>/dev/null
    attempts=$(grep -o '"attempts":[0-9]*' "$work/refused-$loops.jsonl" | awk -F: '{ s += $2 } END { print s }')
    [ "$attempts" = 13 ] || fail "--loops $loops --retries 3: $attempts attempts for 10 refused URLs, expected 13"
done
"$fxrates" fetch -q --concurrency 4 --strategy thread-pool "$base/bytes/1" >/dev/null 2>"$work/err"
[ $? = 1 ] && grep -q -- "--concurrency is the async strategy's; --strategy thread-pool runs --threads N" "$work/err" ||
    fail "--concurrency with --strategy: not refused: $(cat "$work/err")"
"$fxrates" fetch -q --threads 4 "$base/bytes/1" >/dev/null 2>"$work/err"
[ $? = 1 ] && grep -q -- "--threads is the pools' (thread-pool, process-pool, offload); --strategy async runs --concurrency N" "$work/err" ||
    fail "--threads without a pool: not refused: $(cat "$work/err")"

echo "fetch stream: peak RSS $small KiB for 2,000 lines, $large KiB for 20,000"
finish_checks "fetch stream"
