#!/usr/bin/env bash
# `fxrates serve` as a user runs it: it prints where it listens, writes the certificate, stops
# cleanly (exit 0) on SIGINT and on SIGTERM, explains bad input with exit code 1, and serves files
# (--root), the demo site and plain HTTP (--plain-port) to curl.
# Usage: serve_command_test.sh PATH/TO/fxrates
. "$(dirname "$0")/test_shell.sh"
fxrates=$1

. "$(dirname "$0")/wait_for_exit.sh"

for signal in INT TERM; do
    coproc server { exec "$fxrates" serve --port 0 --cert-out "$work/ca.pem" 2>&1; }
    pid=$server_PID
    # Wait for the event (the "serving" line), not for a fixed time; a deadline turns a hang into a failure.
    if ! IFS= read -r -t 20 line <&"${server[0]}"; then
        fail "SIG$signal: no 'serving' line within 20 s"; kill -9 "$pid"; continue
    fi
    [[ $line =~ ^fxrates\ serve:\ serving\ https://127\.0\.0\.1:([0-9]+) ]] || fail "SIG$signal: unexpected first line: $line"
    [ "${BASH_REMATCH[1]:-0}" -gt 0 ] || fail "SIG$signal: port 0 was not replaced by the real port"
    grep -q "BEGIN CERTIFICATE" "$work/ca.pem" || fail "SIG$signal: --cert-out did not write a certificate"
    kill -"$signal" "$pid"
    wait_for_exit "$pid" 10
    [ "$exit_code" = 0 ] || fail "SIG$signal: exit code $exit_code, expected 0"
done

printf 'Date,USD,\n2024-01-05,1.09,\nnot-a-date,1.1,\n' > "$work/corrupt.csv"
message=$("$fxrates" serve --port 0 --data "$work/corrupt.csv" 2>&1)
code=$?
[ "$code" = 1 ] || fail "corrupt data file: exit code $code, expected 1"
[[ $message == *"corrupt.csv:3"* ]] || fail "corrupt data file: the message does not name file and line: $message"

message=$("$fxrates" serve --cert "$work/ca.pem" 2>&1)
code=$?
[ "$code" = 1 ] || fail "--cert without --key: exit code $code, expected 1"
[[ $message == *"--key"* ]] || fail "--cert without --key: the message does not mention --key: $message"

message=$("$fxrates" serve --latency -5 2>&1)
code=$?
[ "$code" = 1 ] || fail "--latency -5: exit code $code, expected 1"

# Usage errors (issue 13): exit 1 and a line naming the value and what is allowed.
refused() { # EXPECTED-TEXT ARGS...: `fxrates serve ARGS` exits 1 with EXPECTED-TEXT in its message
    local expected=$1
    shift
    message=$(timeout 20 "$fxrates" serve "$@" </dev/null 2>&1)
    code=$?
    [ "$code" = 1 ] || fail "serve $*: exit code $code, expected 1"
    [[ $message == *"$expected"* ]] || fail "serve $*: the message does not say '$expected': $message"
    # One prefix for every message of the command, and no raw control character from the input.
    local line
    while IFS= read -r line; do
        [[ $line == "fxrates serve: "* || $line == "Run with --help for more information." ]] ||
            fail "serve $*: a line does not start with 'fxrates serve: ': $line"
    done <<<"$message"
    [[ $message != *$'\e'* ]] || fail "serve $*: the message holds a raw ESC: $(printf %q "$message")"
    [ "$(grep -cv '^Run with --help' <<<"$message")" = 1 ] ||
        fail "serve $*: not one line: $(printf %q "$message")"
}
refused "0-65535" --port ''
refused "0-65535" --port 65536
refused "'-1'" --seed -1
refused "0.001 to 1000000" --rate-limit 1e-10
refused "0.001 to 1000000" --rate-limit nan
refused "0 to 600000" --latency nan
refused "0 to 600000" --latency inf
refused "not an IP address" --address localhost
refused "--burst requires --rate-limit" --burst 5
refused "--burst requires --rate-limit" --burst 5 --rate-limit 0
refused "the value is empty" --cert-out ''

# Control characters from the command line are escaped, and the message stays one line.
refused '/nonexist/x\x1b[31my: No such file' --port 0 --cert-out $'/nonexist/x\x1b[31my'
refused "--fault '50\x1b0:1'" --fault $'50\x1b0:1'
refused "--address '127.0.0.1\n' is not an IP address" --address $'127.0.0.1\n'

# A FIFO or a device would block the start for ever: regular files only, as the client's --cacert.
mkfifo "$work/fifo"
touch "$work/empty.pem"
refused "--cert: '$work/fifo' is not a regular file" --cert "$work/fifo" --key "$work/empty.pem"
refused "--key: '$work/fifo' is not a regular file" --cert "$work/empty.pem" --key "$work/fifo"
refused "--data: '$work/fifo' is not a regular file" --data "$work/fifo"
refused "--data: '/dev/zero' is not a regular file" --data /dev/zero
refused "empty.pem: cannot read the certificate" --cert "$work/empty.pem" --key "$work/empty.pem"

# A day whose rates are inside 0.0001-1e8 but would rebase to 0.0 at the 6 places served.
printf 'Date,USD,JPY,PLN,GBP,\n2019-04-09,0.0001,100000000.0,1.123456789012,99999999.99999999,\n' >"$work/edge.csv"
refused "edge.csv:2: the USD rate 0.0001 and the JPY rate 100000000.0 are too far apart" --data "$work/edge.csv"
# A file over 64 MiB is refused by its size, before a byte is read (this one has no header at all).
truncate -s 65M "$work/big.csv"
refused "big.csv: the file is larger than 64 MiB" --data "$work/big.csv"

printf 'Date,USD,\n2024-01-05,0.000000000000000001,\n' > "$work/extreme.csv"
refused "extreme.csv:2" --data "$work/extreme.csv"
refused "0.0001 to 100000000" --data "$work/extreme.csv"
printf 'not,an,ecb,file\n' > "$work/other.csv"
refused "other.csv:1" --data "$work/other.csv"

# A key of another type than the certificate's, and an encrypted key (no pass phrase prompt).
if openssl ecparam -name prime256v1 -genkey -noout -out "$work/ec.pem" 2>/dev/null &&
    openssl req -x509 -key "$work/ec.pem" -subj /CN=localhost -days 1 -out "$work/cert.pem" 2>/dev/null &&
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/rsa.pem" 2>/dev/null &&
    openssl pkey -in "$work/ec.pem" -aes256 -passout pass:secret -out "$work/encrypted.pem" 2>/dev/null; then
    refused "rsa.pem does not match the certificate in $work/cert.pem" --cert "$work/cert.pem" --key "$work/rsa.pem"
    refused "encrypted.pem is encrypted" --cert "$work/cert.pem" --key "$work/encrypted.pem"
else
    echo "skipped: openssl cannot make the test keys"
fi

# The banner with the port must reach its reader, or the server stops.
message=$(timeout 20 "$fxrates" serve --port 0 2>&1 >/dev/full)
code=$?
[ "$code" = 1 ] || fail "banner to /dev/full: exit code $code, expected 1"
[[ $message == *"No space left on device"* ]] || fail "banner to /dev/full: no errno text: $message"
message=$(timeout 20 "$fxrates" serve --port 0 2>&1 >&-)
code=$?
[ "$code" = 1 ] || fail "closed stdout: exit code $code, expected 1"
[[ $message == *"Bad file descriptor"* ]] || fail "closed stdout: no errno text: $message"
message=$(timeout 20 "$fxrates" serve --port 0 --cert-out /dev/full 2>&1 </dev/null)
code=$?
[ "$code" = 1 ] || fail "--cert-out /dev/full: exit code $code, expected 1"
[[ $message == *"/dev/full: No space left on device"* ]] || fail "--cert-out /dev/full: message: $message"

# A request log that cannot be written (the reader went away) stops the server, and the process
# exits 1 at once: nothing may keep it waiting for a Ctrl-C.
mkfifo "$work/log.fifo"
(trap '' PIPE; exec "$fxrates" serve --port 0 --log-requests --cert-out "$work/log-ca.pem") \
    >"$work/log.fifo" 2>"$work/log.err" </dev/null &
pid=$!
line=$(timeout 20 head -1 <"$work/log.fifo") # the reader takes the banner and goes away
if [[ $line =~ 127\.0\.0\.1:([0-9]+) ]]; then
    timeout 20 "$fxrates" rates --api "https://127.0.0.1:${BASH_REMATCH[1]}" --cacert "$work/log-ca.pem" \
        --retries 0 --base USD >/dev/null 2>&1
    wait_for_exit "$pid" 10
    [ "$exit_code" = 1 ] || fail "request log to a closed pipe: exit code $exit_code, expected 1"
    message=$(cat "$work/log.err")
    [[ $message == "fxrates serve: cannot write the request log to standard output: Broken pipe"* ]] ||
        fail "request log to a closed pipe: message: $message"
else
    fail "request log to a closed pipe: no banner: '$line', stderr: $(cat "$work/log.err")"
    kill -9 "$pid" 2>/dev/null
fi

# --root and --plain-port as curl fetches them: files over HTTPS and plain HTTP, a range, no way out
# of the root, the API beside the files; the banner gives the plain port after the TLS part.
refused "--root: Directory does not exist" --root "$work/no-such-dir"
refused "0-65535" --plain-port 65536
if command -v curl >/dev/null; then
    mkdir -p "$work/site/docs"
    printf 'Hello, files!\n' >"$work/site/hello.txt"
    printf '<h1>docs</h1>\n' >"$work/site/docs/index.html"
    printf 'secret\n' >"$work/secret.txt"
    ln -s ../secret.txt "$work/site/link.txt"
    coproc files { exec "$fxrates" serve --port 0 --plain-port 0 --root "$work/site" --cert-out "$work/files-ca.pem" 2>&1; }
    pid=$files_PID
    banner='^fxrates serve: serving https://127\.0\.0\.1:([0-9]+) \(certificate in [^)]*\); plain http://127\.0\.0\.1:([0-9]+); Ctrl-C stops$'
    if IFS= read -r -t 20 line <&"${files[0]}" && [[ $line =~ $banner ]]; then
        tls=${BASH_REMATCH[1]} plain=${BASH_REMATCH[2]}
        status() { curl -s -o /dev/null -w '%{http_code}' --path-as-is "$@"; }
        [ "$(curl -s --cacert "$work/files-ca.pem" "https://localhost:$tls/hello.txt")" = "Hello, files!" ] ||
            fail "--root: the file over HTTPS"
        [ "$(curl -s "http://127.0.0.1:$plain/hello.txt")" = "Hello, files!" ] || fail "--root: the file over plain HTTP"
        [ "$(curl -s "http://127.0.0.1:$plain/docs/")" = "<h1>docs</h1>" ] || fail "--root: a directory's index.html"
        [ "$(curl -s -r 0-4 "http://127.0.0.1:$plain/hello.txt")" = "Hello" ] || fail "--root: a range"
        etag=$(curl -s -I "http://127.0.0.1:$plain/hello.txt" | tr -d '\r' | sed -n 's/^ETag: //Ip')
        [ -n "$etag" ] || fail "--root: no ETag"
        [ "$(status -H "If-None-Match: $etag" "http://127.0.0.1:$plain/hello.txt")" = 304 ] || fail "--root: no 304"
        for target in /../secret.txt /%2e%2e/secret.txt /..%2fsecret.txt /link.txt; do
            [ "$(status "http://127.0.0.1:$plain$target")" = 404 ] || fail "--root: $target is not 404"
            [ "$(status --cacert "$work/files-ca.pem" "https://localhost:$tls$target")" = 404 ] ||
                fail "--root: $target over HTTPS is not 404"
        done
        [ "$(status "http://127.0.0.1:$plain/rates?base=USD")" = 200 ] || fail "--root: /rates is not the API's"
        # The plain port is taken now: refused naming --plain-port.
        refused "--plain-port" --port 0 --plain-port "$plain"
    else
        fail "--root --plain-port: banner: $line"
    fi
    kill "$pid" 2>/dev/null
    wait_for_exit "$pid" 10
    [ "$exit_code" = 0 ] || fail "--root --plain-port: exit code $exit_code, expected 0"

    # Without --root: the demo site and /bytes/N, streamed.
    coproc demo { exec "$fxrates" serve --port 0 --plain-port 0 2>&1; }
    pid=$demo_PID
    if IFS= read -r -t 20 line <&"${demo[0]}" && [[ $line =~ plain\ http://127\.0\.0\.1:([0-9]+)\; ]]; then
        plain=${BASH_REMATCH[1]}
        curl -s "http://127.0.0.1:$plain/site/" | grep -q 'href="page-1.html"' || fail "demo site: no index"
        [ "$(curl -s "http://127.0.0.1:$plain/site/img/image-03.png" | head -c 4 | tail -c 3)" = PNG ] ||
            fail "demo site: no PNG image"
        [ "$(curl -s "http://127.0.0.1:$plain/bytes/10485760?i=1" | wc -c)" = 10485760 ] || fail "/bytes: wrong length"
    else
        fail "demo site: banner: $line"
    fi
    kill "$pid" 2>/dev/null
    wait_for_exit "$pid" 10

    # --no-ranges plays a server without range support; --log-requests shows a request's Range.
    coproc noranges { exec "$fxrates" serve --port 0 --plain-port 0 --no-ranges --log-requests 2>&1; }
    pid=$noranges_PID
    if IFS= read -r -t 20 line <&"${noranges[0]}" && [[ $line =~ plain\ http://127\.0\.0\.1:([0-9]+)\; ]]; then
        plain=${BASH_REMATCH[1]}
        [ "$(curl -s -r 500- "http://127.0.0.1:$plain/bytes/1000" | wc -c)" = 1000 ] ||
            fail "--no-ranges: a range was served, not the whole body"
        IFS= read -r -t 20 line <&"${noranges[0]}"
        [ "$line" = "GET /bytes/1000 range bytes=500- -> 200" ] || fail "--no-ranges --log-requests: log line: $line"
    else
        fail "--no-ranges: banner: $line"
    fi
    kill "$pid" 2>/dev/null
    wait_for_exit "$pid" 10
else
    echo "skipped: no curl for --root and --plain-port"
fi

# IPv6 in brackets, where the machine has ::1.
coproc server6 { exec "$fxrates" serve --address ::1 --port 0 2>&1; }
pid=$server6_PID
if IFS= read -r -t 20 line <&"${server6[0]}"; then
    if [[ $line == *"cannot listen"* ]]; then
        echo "skipped: no IPv6 loopback"
    else
        [[ $line =~ ^fxrates\ serve:\ serving\ https://\[::1\]:[0-9]+\; ]] || fail "--address ::1: banner: $line"
    fi
fi
kill "$pid" 2>/dev/null
wait_for_exit "$pid" 10

finish_checks "serve command"
