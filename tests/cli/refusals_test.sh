#!/usr/bin/env bash
# Hostile input to `fxrates rates` and `fxrates compare` (issue 13): output that cannot be written
# is reported, never lost in silence; every bad value is a usage error (exit 1) in one line naming
# it and the allowed range; control characters from the input are escaped; mistakes get a hint.
# Usage: refusals_test.sh PATH/TO/fxrates
. "$(dirname "$0")/test_shell.sh"
fxrates=$1
out=$work/out
err=$work/err

runner=("$fxrates")
run() { "${runner[@]}" "$@" >"$out" 2>"$err"; code=$?; }
# expect_refusal "what" "pattern in the one line" ARGS...: exit 1, one line of message (plus the
# --help pointer for CLI11's errors) matching the pattern.
expect_refusal() {
    local what=$1 pattern=$2
    shift 2
    run "$@"
    [ "$code" = 1 ] || fail "$what: exit code $code, expected 1: $(cat "$err")"
    [ "$(grep -vc '^Run with --help' "$err")" = 1 ] || fail "$what: not one line: $(cat "$err")"
    grep -q -- "$pattern" "$err" || fail "$what: the message does not say '$pattern': $(cat "$err")"
}

# --- Output is never silently lost -------------------------------------------------------------
for format in table json csv; do
    "$fxrates" rates --local --format "$format" --date 2019-04-09 >/dev/full 2>"$err"
    code=$?
    [ "$code" = 1 ] || fail "rates --format $format >/dev/full: exit code $code, expected 1"
    grep -qx "fxrates rates: cannot write standard output: No space left on device" "$err" ||
        fail "rates --format $format >/dev/full: $(cat "$err")"
done
"$fxrates" compare --local --latency 0 --strategies async >/dev/full 2>"$err"
code=$?
[ "$code" = 1 ] || fail "compare >/dev/full: exit code $code, expected 1"
grep -qx "fxrates compare: cannot write standard output: No space left on device" "$err" ||
    fail "compare >/dev/full: $(cat "$err")"

"$fxrates" rates --local --date 2019-04-09 >&- 2>"$err"
code=$?
[ "$code" = 1 ] || fail "rates >&-: exit code $code, expected 1"
grep -qx "fxrates rates: cannot write standard output: Bad file descriptor" "$err" || fail "rates >&-: $(cat "$err")"
"$fxrates" compare --local --strategies async --timeline "$work/t.svg" >&- 2>"$err"
code=$?
[ "$code" = 1 ] || fail "compare >&-: exit code $code, expected 1"
[ ! -e "$work/t.svg" ] || [ ! -s "$work/t.svg" ] || ! grep -q "requests per strategy" "$work/t.svg" ||
    fail "compare >&-: the table went into the timeline file"

# A reader that went away, with SIGPIPE ignored: EPIPE. The reader has exited before fxrates starts.
exec {gone}> >(exit 0)
wait $!
(trap '' PIPE; exec "$fxrates" rates --local --date 2019-04-09 >&"$gone" 2>"$err")
code=$?
exec {gone}>&-
[ "$code" = 1 ] || fail "rates into a closed pipe: exit code $code, expected 1"
grep -qx "fxrates rates: cannot write standard output: Broken pipe" "$err" || fail "closed pipe: $(cat "$err")"

# Files written: a directory that does not exist, and a full device.
run compare --local --latency 0 --strategies async --timeline "$work/no/such/dir/t.svg"
[ "$code" = 1 ] || fail "--timeline in a missing directory: exit code $code, expected 1"
grep -qx "fxrates compare: cannot write $work/no/such/dir/t.svg: No such file or directory" "$err" ||
    fail "--timeline in a missing directory: $(cat "$err")"
run compare --local --latency 0 --strategies async --trace /dev/full
[ "$code" = 1 ] || fail "--trace /dev/full: exit code $code, expected 1"
grep -qx "fxrates compare: cannot write /dev/full: No space left on device" "$err" || fail "--trace /dev/full: $(cat "$err")"

# --- No number reaches a conversion it overflows -------------------------------------------------
for value in nan inf -inf 1e300; do
    expect_refusal "--timeout $value" "'$value' is not a number from 0.001 to 3600" rates --local --timeout "$value"
    expect_refusal "--rate $value" "'$value' is not a positive number of requests per second up to 1000000" \
        rates --local --rate "$value"
    expect_refusal "--burst $value" "'$value' is not a number from 1 to 1000000" rates --local --rate 5 --burst "$value"
    expect_refusal "compare --latency $value" "'$value' is not a number from 0 to 60000" compare --latency "$value"
    expect_refusal "compare --rate $value" "'$value' is not a number from 0.001 to 1000000" compare --rate "$value"
    expect_refusal "compare --timeout $value" "'$value' is not a number from 0.1 to 3600" compare --timeout "$value"
done

# --- Every bad value is refused ------------------------------------------------------------------
expect_refusal "--base USD,,EUR" "--base: 'USD,,EUR' has an empty element" rates --local --base USD,,EUR
expect_refusal "--base ," "--base: ',': the list is empty" rates --local --base ,
expect_refusal "--symbols USD," "--symbols: 'USD,' has an empty element" rates --local --symbols USD,
expect_refusal "compare --base ,EUR" "--base: ',EUR' has an empty element" compare --base ,EUR
expect_refusal "--date ''" "--date: the value is empty" rates --local --date ''
expect_refusal "compare --date ''" "--date: the value is empty" compare --date ''
expect_refusal "--burst without --rate" "--burst requires --rate" rates --local --burst 5
echo "not used" >"$work/ca.pem"
expect_refusal "--local --cacert" "--local excludes --cacert" rates --local --cacert "$work/ca.pem"
expect_refusal "--local --insecure" "--local excludes --insecure" rates --local --insecure
expect_refusal "--insecure --cacert" "excludes --insecure" rates --insecure --cacert "$work/ca.pem"
expect_refusal "compare --insecure --cacert" "excludes --insecure" \
    compare --api https://localhost:1 --insecure --cacert "$work/ca.pem"
mkfifo "$work/fifo"
runner=(timeout 10 "$fxrates") # a hang is a failure, not a stuck test
expect_refusal "--cacert FIFO" "--cacert: '$work/fifo' is not a regular file" rates --cacert "$work/fifo"
runner=("$fxrates")
expect_refusal "--cacert directory" "is not a regular file" rates --cacert "$work"
bases=$(for a in {A..Z}; do for b in {A..Z}; do printf '%s%sX,' "$a" "$b"; done; done)
bases=${bases%,}
expect_refusal "compare --repeat 10000 with 676 bases" "at most 1000000" \
    compare --strategies async --repeat 10000 --base "$bases"
runner=(bash -c 'ulimit -n 256 && exec "$0" "$@"' "$fxrates")
expect_refusal "thread-per-item past ulimit -n" "this process may open 256 files (ulimit -n)" \
    rates --strategy thread-per-item --local --base "$bases"
runner=("$fxrates")

# --- Messages that describe the real problem ----------------------------------------------------
expect_refusal "--concurrency 0" "not in range 1 to 10000" rates --local --concurrency 0
expect_refusal "unknown command" "fxrates: 'rate' is not a command; did you mean rates?" rate
expect_refusal "mistyped option" "--bse is not an option of fxrates rates; did you mean --base?" rates --bse USD
expect_refusal "--api port -1" "the port '-1'" rates --api https://127.0.0.1:-1
expect_refusal "control characters in --base" "'\\\\x1b\[31m' is not a currency code" rates --local --base $'\e[31m'
expect_refusal "bidi override in --date" "'2019\\\\u202e' is not a calendar date" rates --local --date $'2019\u202e'
expect_refusal "CR in --cacert" "'$work/x\\\\ry': No such file" rates --cacert "$work/x"$'\r'"y"
! grep -q $'\e' "$err" || fail "an escape character reached the terminal"

# TLS rejections name the problem and the certificate, not "cannot reach ... try --local"; a CA file
# is suggested only where trust is the problem. A certificate for another host (made by openssl):
# with it trusted, the host is wrong; without, trust is wrong too (it is self-signed).
if command -v openssl >/dev/null; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=other.example \
        -addext subjectAltName=DNS:other.example -days 2 -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
    coproc server { exec "$fxrates" serve --port 0 --cert "$work/cert.pem" --key "$work/key.pem" 2>&1; }
    server_pid=$server_PID
    if IFS= read -r -t 20 line <&"${server[0]}"; then
        port=$(sed -E 's|.*:([0-9]+)[ ;].*|\1|' <<<"$line")
        run rates --api "https://127.0.0.1:$port" --cacert "$work/cert.pem" --base USD
        [ "$code" = 1 ] || fail "wrong host: exit code $code, expected 1"
        grep -q "was rejected: IP address mismatch (subject 'CN=other.example', valid from .* until " "$err" ||
            fail "wrong host: the problem or the certificate is not named: $(cat "$err")"
        ! grep -q -- "--cacert\|cannot reach\|--local" "$err" || fail "wrong host: misleading advice: $(cat "$err")"
        run rates --api "https://127.0.0.1:$port" --base USD
        [ "$code" = 1 ] || fail "untrusted: exit code $code, expected 1"
        grep -q "was rejected: self-signed certificate (subject 'CN=other.example'.*(--cacert FILE trusts a CA" "$err" ||
            fail "untrusted: no --cacert advice: $(cat "$err")"
        ! grep -q "cannot reach" "$err" || fail "untrusted: said the server cannot be reached: $(cat "$err")"
        # --insecure: the rates, and exactly one warning line.
        run rates --api "https://127.0.0.1:$port" --base USD --insecure --strategy thread-pool
        [ "$code" = 0 ] || fail "--insecure: exit code $code: $(cat "$err")"
        [ "$(wc -l <"$err")" = 1 ] && grep -q "^fxrates rates: warning: --insecure: " "$err" ||
            fail "--insecure: not exactly one warning line: $(cat "$err")"
    else
        fail "TLS: the server did not start"
    fi
    kill "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
fi

finish_checks "refusals"
