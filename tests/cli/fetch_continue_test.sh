#!/usr/bin/env bash
# `fxrates fetch --continue`: a download cut mid-body (a server that resets, then one that is
# killed and replaced on the same port) and one stopped by Ctrl-C keep their bytes in a partial file;
# the run continued with --continue asks for the rest only (Range + If-Range in the server's log)
# and ends with the bytes an uninterrupted download gives; a server without range support sends
# the whole body again, with the same result; complete files are skipped.
# Usage: fetch_continue_test.sh PATH/TO/fxrates
. "$(dirname "$0")/test_shell.sh"
fxrates=$1
pids=()
cleanup() {
    in_main_shell || return
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT

# Starts `fxrates serve --log-requests --port PORT ARGS`, its log in $1; sets $port, $server and
# $ca (each server has a certificate of its own).
start_server() {
    local log=$1 want=$2
    shift 2
    ca=$log.ca.pem
    "$fxrates" serve --port "$want" --log-requests --cert-out "$ca" "$@" >"$log" 2>&1 &
    server=$!
    pids+=($server)
    local deadline=$((SECONDS + 20))
    until [[ $(head -1 "$log" 2>/dev/null) =~ https://127\.0\.0\.1:([0-9]+) ]] || [ "$SECONDS" -ge "$deadline" ]; do
        sleep 0.05
    done
    [[ $(head -1 "$log") =~ https://127\.0\.0\.1:([0-9]+) ]] || { echo "FAIL: no banner: $(cat "$log")"; exit 1; }
    port=${BASH_REMATCH[1]}
}
stop_server() { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; }
digest() { sha256sum <"$1" | cut -d' ' -f1; }

size=4194304 # 4 MiB: past the 1 MiB from which a download is kept between runs

# The reference: the body from a server that does not misbehave, to stdout.
start_server "$work/ref.log" 0
"$fxrates" fetch -q --cacert "$ca" "https://localhost:$port/bytes/$size" >"$work/reference" ||
    fail "reference download failed"
stop_server

start_server "$work/cut.log" 0 --fault reset-mid-body:1
url="https://localhost:$port/bytes/$size"
list=$work/list.txt
printf '%s big.bin\n' "$url" >"$list"

# 1. Every answer is cut half-way: each retry asks for the rest of what the file holds, and what
#    arrived is kept for --continue when the retries run out.
"$fxrates" fetch -q --cacert "$ca" -i "$list" -o "$work/out" --retries 2 >"$work/stdout" 2>"$work/err"
code=$?
[ "$code" = 1 ] || fail "cut: exit $code, expected 1: $(cat "$work/err")"
grep -q "bytes kept for --continue" "$work/err" || fail "cut: the kept bytes are not said: $(cat "$work/err")"
# (How much of each cut answer arrives varies: a reset drops what the client had not read yet.)
grep -Eq "GET /bytes/$size range bytes=[1-9][0-9]*- -> fault reset-mid-body" "$work/cut.log" ||
    fail "cut: the retry did not ask for the rest: $(grep GET "$work/cut.log")"
partial=$work/out/.big.bin.fxrates-partial
[ -f "$partial" ] && [ -f "$partial.json" ] || fail "cut: no partial file and note: $(ls -A "$work/out")"
[ ! -e "$work/out/big.bin" ] || fail "cut: a file under the final name"
held=$(stat -c %s "$partial" 2>/dev/null || echo 0)
[ "$held" -gt 0 ] && [ "$held" -lt "$size" ] || fail "cut: $held bytes kept"
cmp -s -n "$held" "$partial" "$work/reference" || fail "cut: the kept bytes are not the body's first bytes"

# 2. The server is killed and another takes its port: --continue asks for the rest, gets a 206.
cut_port=$port
stop_server
start_server "$work/resume.log" "$cut_port"
"$fxrates" fetch -q --cacert "$ca" -i "$list" -o "$work/out" --continue --report "$work/r.jsonl" \
    >"$work/stdout" 2>"$work/err"
code=$?
[ "$code" = 0 ] || fail "continue: exit $code: $(cat "$work/err")"
grep -q "GET /bytes/$size range bytes=$held- -> 206" "$work/resume.log" ||
    fail "continue: no Range for the rest: $(grep GET "$work/resume.log")"
[ "$(grep -c "GET /bytes/$size" "$work/resume.log")" = 1 ] || fail "continue: more than one request"
[ "$(digest "$work/out/big.bin")" = "$(digest "$work/reference")" ] || fail "continue: the file differs from a whole download"
[ -z "$(find "$work/out" -name '.big.bin*')" ] || fail "continue: the partial file or note is left: $(ls -A "$work/out")"
grep -q "\"resumed_from\":$held," "$work/r.jsonl" && grep -q "\"sha256\":\"$(digest "$work/reference")\"" "$work/r.jsonl" ||
    fail "continue: the report does not say what was resumed, or its digest is not the whole body's: $(cat "$work/r.jsonl")"

# 3. Run again: the complete file is skipped, nothing is asked.
"$fxrates" fetch -q --cacert "$ca" -i "$list" -o "$work/out" --continue --report "$work/r2.jsonl" \
    >"$work/stdout" 2>"$work/err" || fail "complete: exit $?: $(cat "$work/err")"
[ "$(grep -c "GET /bytes/$size" "$work/resume.log")" = 1 ] || fail "complete: the complete file was fetched again"
grep -q "\"bytes\":$size,.*\"skipped\":true" "$work/r2.jsonl" ||
    fail "complete: not reported as skipped with its size: $(cat "$work/r2.jsonl")"
# A file that is not what the folder's metadata says was saved there is not skipped as complete:
# cut since, or asked for from another URL. It is kept, and the line fails saying why.
cp -p "$work/out/big.bin" "$work/big.copy" # its mtime too: the one saved
truncate -s 1000 "$work/out/big.bin"
"$fxrates" fetch -q --cacert "$ca" -i "$list" -o "$work/out" --continue >"$work/stdout" 2>"$work/err"
code=$?
[ "$code" = 1 ] && grep -q "big.bin exists in $work/out but is 1000 bytes where $size were saved" "$work/err" ||
    fail "cut since saved: exit $code, not explained: $(cat "$work/err")"
[ "$(stat -c %s "$work/out/big.bin")" = 1000 ] || fail "cut since saved: the file was not kept as it was"
cp -p "$work/big.copy" "$work/out/big.bin" # as saved again: only the URL differs
echo "https://localhost:$port/bytes/7 big.bin" >"$work/other.txt"
"$fxrates" fetch -q --cacert "$ca" -i "$work/other.txt" -o "$work/out" --continue >"$work/stdout" 2>"$work/err"
code=$?
[ "$code" = 1 ] && grep -q "big.bin exists in $work/out but was saved from another URL" "$work/err" ||
    fail "another URL: exit $code, not explained: $(cat "$work/err")"
stop_server

# 4. A server without ranges: a partial from a cut run, then --continue gets the whole body again.
start_server "$work/cut2.log" "$cut_port" --fault reset-mid-body:1
"$fxrates" fetch -q --cacert "$ca" -i "$list" -o "$work/plain" --retries 0 >"$work/stdout" 2>"$work/err"
[ -f "$work/plain/.big.bin.fxrates-partial" ] || fail "no ranges: no partial from the cut run: $(cat "$work/err")"
held=$(stat -c %s "$work/plain/.big.bin.fxrates-partial" 2>/dev/null || echo 0)
stop_server
start_server "$work/noranges.log" "$cut_port" --no-ranges
"$fxrates" fetch -q --cacert "$ca" -i "$list" -o "$work/plain" --continue >"$work/stdout" 2>"$work/err" ||
    fail "no ranges: exit $?: $(cat "$work/err")"
grep -q "GET /bytes/$size range bytes=$held- -> 200" "$work/noranges.log" ||
    fail "no ranges: the Range was not asked, or not ignored: $(grep GET "$work/noranges.log")"
[ "$(digest "$work/plain/big.bin")" = "$(digest "$work/reference")" ] || fail "no ranges: the file differs"
[ -z "$(find "$work/plain" -name '.big.bin*')" ] || fail "no ranges: the partial file is left"

# 5. Ctrl-C mid-body keeps the bytes; --continue transfers only the rest. A large body (256 MiB)
#    so that the signal comes while it streams: sent once the partial file holds 1 MiB.
big=268435456
# A sanitized build streams a few MB/s: a quarter of it is still streaming when the signal comes.
. "$(dirname "$0")/sanitizers.sh"
if is_sanitized "$fxrates"; then big=67108864; fi
printf 'https://localhost:%s/bytes/%s large.bin\n' "$cut_port" "$big" >"$work/large.txt"
# (--timeout: a sanitized build on a busy machine moves 256 MiB of TLS slower than the default allows.)
"$fxrates" fetch -q --timeout 600 --cacert "$ca" -i "$work/large.txt" -o "$work/int" >"$work/stdout" 2>"$work/err" &
client=$!
deadline=$((SECONDS + 30))
until [ "$(stat -c %s "$work/int/.large.bin.fxrates-partial" 2>/dev/null || echo 0)" -ge 1048576 ] ||
    [ "$SECONDS" -ge "$deadline" ] || ! kill -0 "$client" 2>/dev/null; do sleep 0.01; done
kill -INT "$client" 2>/dev/null
wait "$client"
code=$?
if [ -e "$work/int/large.bin" ]; then
    echo "note: the 256 MiB body was complete before Ctrl-C came; the Ctrl-C case was not exercised"
else
    [ "$code" = 130 ] || fail "Ctrl-C: exit $code, expected 130: $(cat "$work/err")"
    grep -q "partial download(s) kept: --continue resumes them" "$work/err" || fail "Ctrl-C: not said: $(cat "$work/err")"
    kept=$(stat -c %s "$work/int/.large.bin.fxrates-partial" 2>/dev/null || echo 0)
    [ "$kept" -gt 0 ] || fail "Ctrl-C: no bytes kept"
    "$fxrates" fetch -q --timeout 600 --cacert "$ca" -i "$work/large.txt" -o "$work/int" --continue >"$work/stdout" \
        2>"$work/err" || fail "Ctrl-C, continued: exit $?: $(cat "$work/err")"
    grep -q "GET /bytes/$big range bytes=$kept- -> 200" "$work/noranges.log" ||
        fail "Ctrl-C, continued: the rest was not asked from byte $kept: $(grep "/bytes/$big" "$work/noranges.log")"
    [ "$(stat -c %s "$work/int/large.bin")" = "$big" ] || fail "Ctrl-C, continued: wrong size"
fi

# --refresh of a file whose new version is cut mid-way keeps that version's bytes, and the next
# --refresh asks for the rest of it: the folder ends with the new version whole.
stop_server # the server without ranges (above)
mkdir -p "$work/site"
head -c "$size" /dev/urandom >"$work/site/doc.bin"
start_server "$work/v1.log" "$cut_port" --root "$work/site"
"$fxrates" fetch -q --cacert "$ca" "https://localhost:$port/doc.bin" -o "$work/fresh" 2>"$work/err" ||
    fail "refresh: the first version was not fetched: $(cat "$work/err")"
stop_server
head -c "$size" /dev/urandom >"$work/site/doc.bin"
touch -d '+1 hour' "$work/site/doc.bin" # another Last-Modified and ETag, whatever the clock's grain
start_server "$work/v2cut.log" "$cut_port" --root "$work/site" --fault reset-mid-body:1
"$fxrates" fetch -q --cacert "$ca" "https://localhost:$port/doc.bin" -o "$work/fresh" --refresh --retries 0 \
    >"$work/stdout" 2>"$work/err"
grep -q "bytes kept for --refresh" "$work/err" && [ -f "$work/fresh/.doc.bin.fxrates-partial" ] ||
    fail "refresh cut: no partial kept, or the advice is not --refresh: $(cat "$work/err")"
stop_server
start_server "$work/v2.log" "$cut_port" --root "$work/site"
"$fxrates" fetch -q --cacert "$ca" "https://localhost:$port/doc.bin" -o "$work/fresh" --refresh 2>"$work/err" ||
    fail "refresh again: exit $?: $(cat "$work/err")"
grep -Eq "GET /doc.bin range bytes=[0-9]+- -> 206" "$work/v2.log" ||
    fail "refresh again: the rest was not asked for: $(grep GET "$work/v2.log")"
cmp -s "$work/fresh/doc.bin" "$work/site/doc.bin" || fail "refresh again: the file is not the new version whole"
stop_server

finish_checks "fetch --continue"
