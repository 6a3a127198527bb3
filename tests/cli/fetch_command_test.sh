#!/usr/bin/env bash
# `fxrates fetch` as a user runs it against `fxrates serve`: bodies in input order on stdout, files
# saved atomically and confined to -o, --field lines, --report lines for every input line, exit
# codes 0 / 2 / 1 / 130, and usage errors that name the line before anything is sent.
# Usage: fetch_command_test.sh PATH/TO/fxrates
. "$(dirname "$0")/test_shell.sh"
fxrates=$1
out=$work/out
err=$work/err
server_pid=
slow_pid=
cleanup() {
    in_main_shell || return
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    [ -n "$slow_pid" ] && kill "$slow_pid" 2>/dev/null && wait "$slow_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# The server, on a free port; its banner names the port.
coproc server { exec "$fxrates" serve --port 0 --plain-port 0 --cert-out "$work/ca.pem" 2>&1; }
server_pid=$server_PID
IFS= read -r -t 20 banner <&"${server[0]}" || { echo "FAIL: no banner from fxrates serve"; exit 1; }
[[ $banner =~ https://127\.0\.0\.1:([0-9]+).*plain\ http://127\.0\.0\.1:([0-9]+) ]] ||
    { echo "FAIL: unexpected banner: $banner"; exit 1; }
base=https://localhost:${BASH_REMATCH[1]}
plain=http://127.0.0.1:${BASH_REMATCH[2]}

run() { "$fxrates" fetch --cacert "$work/ca.pem" "$@" >"$out" 2>"$err"; code=$?; }

# Each body whole, in the order of the list.
for b in USD EUR PLN NOK CZK; do echo "$base/rates?base=$b&date=2019-04-09"; done >"$work/list.txt"
printf '# a comment, and a blank line\n\n' >>"$work/list.txt"
run -i "$work/list.txt"
[ "$code" = 0 ] || fail "stdout: exit code $code: $(cat "$err")"
[ "$(grep -o '"base":"[A-Z]*"' "$out" | tr '\n' ' ')" = '"base":"USD" "base":"EUR" "base":"PLN" "base":"NOK" "base":"CZK" ' ] ||
    fail "stdout: bodies not whole or not in input order: $(head -c 300 "$out")"
[ -z "$(cat "$err")" ] || fail "stdout: unexpected stderr: $(cat "$err")"

# The same list from stdin gives the same bytes.
"$fxrates" fetch --cacert "$work/ca.pem" -i - <"$work/list.txt" >"$work/stdin.out" 2>"$err" ||
    fail "-i -: exit code $?: $(cat "$err")"
cmp -s "$out" "$work/stdin.out" || fail "-i - gives other bytes than -i FILE"

# Bodies that finish out of order (a large one first, small ones after it) still come out whole
# and in input order: byte for byte what each URL gives alone, one after another. Plain http://
# and https:// in one list.
order=("$base/bytes/50000000" "$base/rates?base=USD" "$plain/bytes/1000" "$plain/site/" "$base/bytes/10")
run "${order[@]}"
[ "$code" = 0 ] || fail "out of order: exit code $code: $(cat "$err")"
: >"$work/expected"
for u in "${order[@]}"; do
    "$fxrates" fetch --cacert "$work/ca.pem" "$u" >>"$work/expected" || fail "alone: $u failed"
done
cmp -s "$out" "$work/expected" || fail "out of order: stdout is not the bodies in input order ($(wc -c <"$out") bytes, expected $(wc -c <"$work/expected"))"

# One failure among successes: exit 2, explained with its line, the others kept.
printf '%s\n%s\n' "$base/rates?base=USD" "$base/no-such-page" >"$work/partial.txt"
run -i "$work/partial.txt"
[ "$code" = 2 ] || fail "partial: exit code $code, expected 2"
grep -q '"base":"USD"' "$out" || fail "partial: the successful body is missing"
grep -q "line 2: $base/no-such-page: the server answered HTTP 404" "$err" || fail "partial: not explained: $(cat "$err")"

# All failed: exit 1.
run "$base/nothing-here" "$base/nor-here"
[ "$code" = 1 ] || fail "all failed: exit code $code, expected 1"

# A URL retried to the end of its --retries says how often it was tried (port 1: nothing listens).
run --retries 2 http://127.0.0.1:1/x
[ "$code" = 1 ] && grep -q "line 1: http://127.0.0.1:1/x: .*; after 3 attempts$" "$err" ||
    fail "retried URL: exit code $code, or its attempts are not said: $(cat "$err")"

# A malformed line is a usage error naming the line, before anything is sent.
printf '%s\nhtp://typo\n' "$base/rates?base=USD" >"$work/bad.txt"
run -i "$work/bad.txt"
[ "$code" = 1 ] || fail "bad line: exit code $code, expected 1"
grep -q "line 2" "$err" || fail "bad line: the line number is not named: $(cat "$err")"
[ ! -s "$out" ] || fail "bad line: something was fetched before the list was checked"

# Files: the crawler's "URL FILE" pairs and names from the URL, saved whole, no temporary left.
printf '%s usd.json\n%s eur.json\n' "$base/rates?base=USD" "$base/rates?base=EUR" >"$work/pairs.txt"
run -i "$work/pairs.txt" -o "$work/saved" --report "$work/report.jsonl"
[ "$code" = 0 ] || fail "files: exit code $code: $(cat "$err")"
grep -q '"base":"USD"' "$work/saved/usd.json" && grep -q '"base":"EUR"' "$work/saved/eur.json" ||
    fail "files: not saved under the names given"
[ "$(ls -A "$work/saved" | grep -vcx .fxrates-meta)" = 2 ] || fail "files: other files left in the folder: $(ls -A "$work/saved")"
[ "$(wc -l <"$work/report.jsonl")" = 2 ] || fail "report: not one line per input line"
sum=$(sha256sum "$work/saved/usd.json" | cut -d' ' -f1)
head -1 "$work/report.jsonl" | grep -q "\"schema\":\"fxrates.fetch/1\",\"index\":1,\"line\":1,.*\"status\":200,.*\"sha256\":\"$sum\",\"file\":\"usd.json\"" ||
    fail "report: first line unexpected: $(head -1 "$work/report.jsonl")"
head -1 "$work/report.jsonl" | grep -q '"tls_ms":[0-9]' || fail "report: no TLS time for https: $(head -1 "$work/report.jsonl")"
# A plain http:// item had no TLS handshake: its tls_ms is null, not 0.
run "$plain/bytes/10" -o "$work/plain-saved" --report "$work/plain.jsonl"
grep -q '"connect_ms":[0-9][0-9.]*,"tls_ms":null,' "$work/plain.jsonl" || fail "report: http:// tls_ms: $(cat "$work/plain.jsonl")"

# An existing file is kept, and that item fails; --overwrite replaces it.
echo original >"$work/saved/usd.json"
rm "$work/saved/eur.json"
run -i "$work/pairs.txt" -o "$work/saved"
[ "$code" = 2 ] || fail "existing file: exit code $code, expected 2"
[ "$(cat "$work/saved/usd.json")" = original ] || fail "existing file: replaced without --overwrite"
grep -q '"base":"EUR"' "$work/saved/eur.json" || fail "existing file: the other item was not saved"
grep -q "usd.json exists" "$err" || fail "existing file: not explained: $(cat "$err")"
run -i "$work/pairs.txt" -o "$work/saved" --overwrite
[ "$code" = 0 ] && grep -q '"base":"USD"' "$work/saved/usd.json" || fail "--overwrite: not replaced"

# Names that would leave the folder, or collide, are refused for that item only.
mkdir -p "$work/jail"
printf '%s ../escaped\n%s\n%s\n%s\n' "$base/rates?base=USD" "$base/a/..%2F..%2Fetc" \
    "$base/rates?base=USD" "$base/rates?base=EUR" >"$work/hostile.txt"
run -i "$work/hostile.txt" -o "$work/jail/out"
[ "$code" = 2 ] || fail "hostile names: exit code $code, expected 2: $(cat "$err")"
grep -q '"base":"USD"' "$work/jail/out/rates" || fail "hostile names: the one good item was not saved"
[ ! -e "$work/jail/escaped" ] && [ ! -e "$work/escaped" ] && [ ! -e "$work/etc" ] || fail "hostile names: a file left the folder"
grep -q 'line 1: .*\.\.' "$err" && grep -q 'line 2: ' "$err" && grep -q 'line 4: .*taken by line 3' "$err" ||
    fail "hostile names: not each explained: $(cat "$err")"
grep -q "1 URL(s) got a file name already taken: --name '{index}-{name}'" "$err" ||
    fail "hostile names: the way out of a name clash is not said: $(cat "$err")"

# A symbolic link planted in the folder is never followed out of it.
mkdir -p "$work/outside" "$work/linked"
ln -s "$work/outside" "$work/linked/sub"
run "$base/rates?base=USD" -o "$work/linked" --name 'sub/{name}'
[ "$code" = 1 ] || fail "planted link: exit code $code, expected 1"
[ -z "$(ls -A "$work/outside")" ] || fail "planted link: a file was written through the link"

# --template with --values and --field: one tab-separated line per value, in order.
printf 'USD\nEUR\n' >"$work/values.txt"
run --template "$base/rates?base={}&date=2019-04-09" --values "$work/values.txt" --field /base --field /rates/PLN
[ "$code" = 0 ] || fail "--field: exit code $code: $(cat "$err")"
[ "$(cat "$out")" = $'USD\t3.801543\nEUR\t4.287' ] || fail "--field: unexpected lines: $(cat -A "$out")"
run --template "$base/rates?base={}" --values "$work/values.txt" --field /no/such
[ "$code" = 1 ] || fail "--field missing: exit code $code, expected 1"
grep -q "/no/such" "$err" || fail "--field missing: not explained: $(cat "$err")"
[ "$(cat "$out")" = $'\n' ] || [ "$(wc -l <"$out")" = 2 ] || fail "--field missing: not one (empty) line per value: $(cat -A "$out")"
# A failed item keeps its line (empty fields), so that line N is still value N's; and a URL after
# --field is a URL, not a second pointer.
printf 'USD\nXXX\nEUR\n' >"$work/with-bad.txt"
run --template "$base/rates?base={}&date=2019-04-09" --values "$work/with-bad.txt" --field /base --field /rates/PLN
[ "$code" = 2 ] || fail "--field with a failing value: exit code $code, expected 2"
[ "$(cat "$out")" = $'USD\t3.801543\n\t\nEUR\t4.287' ] || fail "--field with a failing value: lines: $(cat -A "$out")"
run --field /base "$base/rates?base=USD&date=2019-04-09"
[ "$code" = 0 ] && [ "$(cat "$out")" = USD ] || fail "--field before a URL: exit $code: $(cat "$out") $(cat "$err")"

# Output that cannot be written is an error.
"$fxrates" fetch --cacert "$work/ca.pem" "$base/rates?base=USD" >/dev/full 2>"$err"
code=$?
[ "$code" = 1 ] || fail "/dev/full: exit code $code, expected 1"
grep -q "No space left" "$err" || fail "/dev/full: not explained: $(cat "$err")"

# Usage errors.
run
[ "$code" = 1 ] && grep -q "no URLs to fetch" "$err" || fail "no URLs: exit $code: $(cat "$err")"
run "$base/rates?base=USD" --report -
[ "$code" = 1 ] && grep -q "needs -o" "$err" || fail "--report - without -o: exit $code: $(cat "$err")"
run --template "https://x/{}" --values "$work/values.txt" --field nope
[ "$code" = 1 ] && grep -q -- "--field" "$err" || fail "bad --field: exit $code: $(cat "$err")"
# A report that is the list itself (by another name too) would empty it before it is read.
printf '%s\n' "$base/rates?base=USD" >"$work/self.txt"
ln -s "$work/self.txt" "$work/self-link.txt"
run -i "$work/self.txt" -o "$work/self-out" --report "$work/self-link.txt"
[ "$code" = 1 ] && grep -q "is the file -i .* reads" "$err" || fail "--report = -i: exit $code: $(cat "$err")"
[ -s "$work/self.txt" ] || fail "--report = -i: the list was emptied"
run --template "$base/rates?base={}" --values "$work/values.txt" --report "$work/values.txt"
[ "$code" = 1 ] && grep -q "is the file --values .* reads" "$err" || fail "--report = --values: exit $code: $(cat "$err")"
"$fxrates" fetch --cacert "$work/ca.pem" "$base/rates?base=USD" --report /dev/stdout >"$work/both.txt" 2>"$err"
code=$?
[ "$code" = 1 ] && grep -q "is standard output" "$err" || fail "--report = stdout: exit $code: $(cat "$err")"
cp "$work/ca.pem" "$work/ca-copy.pem"
"$fxrates" fetch --cacert "$work/ca-copy.pem" "$base/rates?base=USD" -o "$work/ca-out" --report "$work/ca-copy.pem" 2>"$err"
code=$?
[ "$code" = 1 ] && grep -q "is the file --cacert" "$err" || fail "--report = --cacert: exit $code: $(cat "$err")"
[ -s "$work/ca-copy.pem" ] || fail "--report = --cacert: the CA file was emptied"
run -i "$work/self.txt" -o "$work/self-out" --report "$work/self-out/.fxrates-meta"
[ "$code" = 1 ] && grep -q "record of what each file's server said" "$err" ||
    fail "--report = the new .fxrates-meta: exit $code: $(cat "$err")"
run -i "$work/self.txt" -o "$work/new/deep/" --report "$work/new/./deep/.fxrates-meta"
[ "$code" = 1 ] && grep -q "record of what each file's server said" "$err" ||
    fail "--report = .fxrates-meta of a folder not made yet: exit $code: $(cat "$err")"
[ ! -e "$work/new" ] || fail "a refused run made its output folder"
# A body never replaces the run's own files in the output folder, --overwrite or not: the report,
# the list. The other line is saved; the report accounts for both.
mkdir -p "$work/own"
printf '%s own.jsonl\n%s list.txt\n%s kept.json\n' "$base/currencies" "$base/currencies" "$base/currencies" >"$work/own/list.txt"
cp "$work/own/list.txt" "$work/own-list.copy"
run -i "$work/own/list.txt" -o "$work/own" --overwrite --report "$work/own/own.jsonl"
[ "$code" = 2 ] || fail "own files: exit $code, expected 2: $(cat "$err")"
grep -q "own.jsonl in .* is the report (--report .*own.jsonl), which a body never replaces" "$err" ||
    fail "own files: the report's line is not explained: $(cat "$err")"
grep -q "list.txt in .* is the list (-i .*list.txt), which a body never replaces" "$err" ||
    fail "own files: the list's line is not explained: $(cat "$err")"
cmp -s "$work/own/list.txt" "$work/own-list.copy" || fail "own files: the list was replaced"
[ "$(wc -l <"$work/own/own.jsonl")" = 3 ] && grep -q '"file":"kept.json"' "$work/own/own.jsonl" ||
    fail "own files: the report was replaced or is short: $(head -c 300 "$work/own/own.jsonl")"
[ -s "$work/own/kept.json" ] || fail "own files: the other line was not saved"
# The same for a list read from stdin, and for stderr's file.
printf '%s stdin.txt\n%s err.txt\n' "$base/currencies" "$base/currencies" >"$work/own/stdin.txt"
cp "$work/own/stdin.txt" "$work/own-stdin.copy"
: >"$work/own/err.txt"
"$fxrates" fetch --cacert "$work/ca.pem" -i - -o "$work/own" --overwrite <"$work/own/stdin.txt" >"$out" 2>>"$work/own/err.txt"
code=$?
[ "$code" = 1 ] || fail "own files from stdin: exit $code, expected 1: $(cat "$work/own/err.txt")"
cmp -s "$work/own/stdin.txt" "$work/own-stdin.copy" || fail "own files: the list read from stdin was replaced"
grep -q "stdin.txt in .* is the list (-i -)" "$work/own/err.txt" && grep -q "err.txt in .* is standard error's file" "$work/own/err.txt" ||
    fail "own files from stdin: not explained: $(cat "$work/own/err.txt")"
# Standard output appended to the list it reads would feed the run its own output.
cp "$work/self.txt" "$work/feed.txt"
"$fxrates" fetch --cacert "$work/ca.pem" -i "$work/feed.txt" -o "$work/feed-out" --report - >>"$work/feed.txt" 2>"$err"
code=$?
[ "$code" = 1 ] && grep -q "standard output is the file -i" "$err" || fail "stdout = -i: exit $code: $(cat "$err")"
cmp -s "$work/self.txt" "$work/feed.txt" || fail "stdout = -i: the list was written to"

# Ctrl-C mid-run, and a server killed mid-run: answers drip one byte per 100 ms, so every file is
# part-way when it happens. Finished files are kept, partial ones removed (none under a final name),
# and the report accounts for every line.
. "$(dirname "$0")/wait_for_exit.sh"
# (A second server: bash keeps one coproc at a time, so its banner is read from a file.)
"$fxrates" serve --port 0 --fault drip:1 --cert-out "$work/slow-ca.pem" >"$work/slow.banner" 2>&1 &
slow_pid=$!
deadline=$((SECONDS + 20))
until grep -q serving "$work/slow.banner" || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.05; done
[[ $(cat "$work/slow.banner") =~ https://127\.0\.0\.1:([0-9]+) ]] || fail "no banner from the slow server"
slow=https://localhost:${BASH_REMATCH[1]}
cat "$work/slow-ca.pem" "$work/ca.pem" >"$work/both-ca.pem" # one CA file for both servers, as with curl
for b in USD EUR PLN; do echo "$slow/rates?base=$b $b.json"; done >"$work/slow.txt"
echo "$base/rates?base=NOK NOK.json" >>"$work/slow.txt" # from the fast server: finishes at once
wait_for_partial_files() { # DIR: until a temporary file exists (the answers have begun), at most 60 s
    # (20 s was too short once under ThreadSanitizer with the whole suite running beside it)
    local deadline=$((SECONDS + 60))
    until [ -n "$(find "$1" -name '.*' 2>/dev/null)" ] || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.05; done
    [ -n "$(find "$1" -name '.*' 2>/dev/null)" ] || fail "no partial file appeared in $1"
}
interrupt_fetch() { # DIR ARGS...: fetch -o DIR ARGS, Ctrl-C once a partial file is there; exit_code is set
    local dir=$1
    shift
    "$fxrates" fetch -o "$dir" "$@" >"$out" 2>"$err" &
    client=$!
    wait_for_partial_files "$dir"
    kill "-${interrupt_signal:-INT}" "$client"
    wait_for_exit "$client" 10
}
# A closed terminal (SIGHUP) stops the run as Ctrl-C does.
interrupt_signal=HUP interrupt_fetch "$work/hup" --cacert "$work/both-ca.pem" -i "$work/slow.txt"
[ "$exit_code" = 129 ] || fail "SIGHUP: exit code $exit_code, expected 129: $(cat "$err")"
[ -z "$(find "$work/hup" -name '.*' ! -name .fxrates-meta)" ] || fail "SIGHUP: temporary files left: $(ls -A "$work/hup")"
# Stuck writing to a pipe nobody reads, the loop cannot act on Ctrl-C; a second one ends it at once.
# (ThreadSanitizer runs a signal handler only when its thread comes out of the system call, which
# a write stuck on a full pipe never does: the check needs the program as built to ship.)
if ! ldd "$fxrates" 2>/dev/null | grep -q libtsan; then
    mkfifo "$work/stuck.fifo"
    sleep 120 <"$work/stuck.fifo" &
    reader=$!
    "$fxrates" fetch "$plain/bytes/5000000" "$plain/bytes/10" >"$work/stuck.fifo" 2>"$err" &
    client=$!
    deadline=$((SECONDS + 20))
    until grep -q pipe_write "/proc/$client/wchan" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.05; done
    grep -q pipe_write "/proc/$client/wchan" 2>/dev/null || fail "stuck pipe: the fetch never blocked writing to it"
    kill -INT "$client"
    # Two signals sent before the first is taken are one: wait until it was taken.
    deadline=$((SECONDS + 10))
    until ! grep -qE '^(Sig|Shd)Pnd:.*[1-9a-f]' "/proc/$client/status" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; do
        sleep 0.05
    done
    kill -INT "$client"
    wait_for_exit "$client" 10
    [ "$exit_code" = 130 ] || fail "stuck pipe: exit code $exit_code after two Ctrl-C, expected 130 (killed by SIGINT)"
    kill "$reader" 2>/dev/null
    wait "$reader" 2>/dev/null
fi
# Under nohup (SIGHUP ignored when it starts) a closed terminal does not stop it; Ctrl-C still does.
( trap '' HUP; exec "$fxrates" fetch -o "$work/nohup" --cacert "$work/both-ca.pem" -i "$work/slow.txt" ) >"$out" 2>"$err" &
client=$!
wait_for_partial_files "$work/nohup"
kill -HUP "$client"
kill -0 "$client" 2>/dev/null || fail "nohup: SIGHUP stopped the run"
kill -INT "$client"
wait_for_exit "$client" 10
[ "$exit_code" = 130 ] || fail "nohup: exit code $exit_code after SIGHUP then Ctrl-C, expected 130: $(cat "$err")"
interrupt_fetch "$work/int" --cacert "$work/both-ca.pem" -i "$work/slow.txt" --report "$work/int.jsonl"
[ "$exit_code" = 130 ] || fail "Ctrl-C: exit code $exit_code, expected 130: $(cat "$err")"
[ -z "$(find "$work/int" -name '.*' ! -name .fxrates-meta)" ] || fail "Ctrl-C: temporary files left: $(ls -A "$work/int")"
[ "$(ls -A "$work/int" | grep -vx .fxrates-meta)" = NOK.json ] || fail "Ctrl-C: expected only the finished file: $(ls -A "$work/int")"
grep -q '"file":"NOK.json"' "$work/int/.fxrates-meta" || fail "Ctrl-C: the finished file's validators were not saved"
grep -q "interrupted; 1 of 4 fetched, 0 failed, not finished (lines of the input): 1, 2, 3" "$err" ||
    fail "Ctrl-C: the unfinished lines are not listed: $(cat "$err")"
[ "$(wc -l <"$work/int.jsonl")" = 4 ] || fail "Ctrl-C: the report does not account for every line"

# Ctrl-C before most of a list was read (one at a time): the lines never started are named, and
# the report has a "not started" line for each of them.
head -3 "$work/slow.txt" | sed 's/\.json$/.again.json/' >"$work/one-by-one.txt"
head -3 "$work/slow.txt" | sed 's/\.json$/.more.json/' >>"$work/one-by-one.txt"
interrupt_fetch "$work/one" --cacert "$work/slow-ca.pem" -i "$work/one-by-one.txt" --concurrency 1 \
    --report "$work/one.jsonl"
[ "$exit_code" = 130 ] || fail "Ctrl-C, one at a time: exit code $exit_code, expected 130: $(cat "$err")"
grep -Eq "interrupted; 0 of 6 fetched, 0 failed, not finished \(lines of the input\): 1, not started: 5 URLs, lines 2 to 6$" "$err" ||
    fail "Ctrl-C, one at a time: the lines never started are not named: $(cat "$err")"
[ "$(wc -l <"$work/one.jsonl")" = 6 ] || fail "Ctrl-C, one at a time: the report does not account for every line"
[ "$(grep -c '"attempts":0,.*"message":"not started: the run was interrupted"' "$work/one.jsonl")" = 5 ] ||
    fail "Ctrl-C, one at a time: the report does not say which lines were not started: $(cat "$work/one.jsonl")"

# --loops: a download that never ends holds its loop's share of the host, and the other loops
# fetch the host's other URLs; at most one waits aside behind it. The host: a small server that
# answers /endless with a body that never comes, anything else at once.
coproc held_server {
    exec python3 -u -c '
import http.server, socketserver, threading
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args): pass
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "100000" if self.path.startswith("/endless") else "1")
        self.end_headers()
        if self.path.startswith("/endless"):
            self.wfile.write(b"x"); self.wfile.flush(); threading.Event().wait()
        self.wfile.write(b"y")
class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
server = Server(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()'
}
held_pid=$held_server_PID
IFS= read -r -t 20 held_port <&"${held_server[0]}" || fail "the held server did not start"
{ echo "http://127.0.0.1:$held_port/endless endless"; for i in $(seq 10); do echo "http://127.0.0.1:$held_port/one?i=$i f$i"; done; } >"$work/loops.txt"
"$fxrates" fetch -q -i "$work/loops.txt" -o "$work/loops" --loops 3 --per-host 3 >"$out" 2>"$err" &
client=$!
deadline=$((SECONDS + 30))
until [ "$(ls "$work/loops" 2>/dev/null | grep -c '^f')" -ge 9 ] || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.05; done
got=$(ls "$work/loops" 2>/dev/null | grep -c '^f')
kill -INT "$client"
wait_for_exit "$client" 10
kill "$held_pid" 2>/dev/null
wait "$held_pid" 2>/dev/null
[ "$got" -ge 9 ] || fail "--loops 3 beside an endless download: $got of 10 files in 30 s"

"$fxrates" fetch --cacert "$work/slow-ca.pem" -i <(head -3 "$work/slow.txt") -o "$work/killed" --retries 0 \
    --report "$work/killed.jsonl" >"$out" 2>"$err" &
client=$!
wait_for_partial_files "$work/killed"
kill -9 "$slow_pid"
wait "$slow_pid" 2>/dev/null
slow_pid=
wait_for_exit "$client" 30
[ "$exit_code" = 1 ] || fail "server killed: exit code $exit_code, expected 1: $(cat "$err")"
[ -z "$(ls -A "$work/killed")" ] || fail "server killed: files left: $(ls -A "$work/killed")"
[ "$(grep -c '"ok":false' "$work/killed.jsonl")" = 3 ] || fail "server killed: the report does not hold 3 failures"

# A reader that goes away (`| head`): exit 1, not a SIGPIPE, and no temporary file left behind.
for i in $(seq 200); do echo "$base/site/page-$((i % 40 + 1)).html?i=$i p$i.html"; done >"$work/pipe.txt"
"$fxrates" fetch -q --cacert "$work/ca.pem" -i "$work/pipe.txt" -o "$work/piped" --report - 2>"$work/pipe-err" |
    head -c 10 >/dev/null
code=${PIPESTATUS[0]}
[ "$code" = 1 ] || fail "report to a closed pipe: exit $code, expected 1: $(cat "$work/pipe-err")"
[ -z "$(find "$work/piped" -name '.*fxrates-*' ! -name .fxrates-meta 2>/dev/null)" ] || fail "report to a closed pipe: temporary files left"

finish_checks "fetch command"
