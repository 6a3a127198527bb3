#!/usr/bin/env bash
# `fxrates serve` as a user runs it: it prints where it listens, writes the certificate, stops
# cleanly (exit 0) on SIGINT and on SIGTERM, and explains bad input with exit code 1.
# Usage: serve_command_test.sh PATH/TO/fxrates
set -uo pipefail
fxrates=$1
work=$(mktemp -d "$PWD/serve_command_test.XXXXXX") # inside the build tree, not a shared /tmp
main_shell=$BASHPID
# Only the main shell cleans up: a subshell killed early (the watchdog below) may still run this trap.
trap '[ "$BASHPID" = "$main_shell" ] && rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

. "$(dirname "$0")/wait_for_exit.sh"

for signal in INT TERM; do
    coproc server { exec "$fxrates" serve --port 0 --cert-out "$work/ca.pem" 2>&1; }
    pid=$server_PID
    # Wait for the event (the "serving" line), not for a fixed time; a deadline turns a hang into a failure.
    if ! IFS= read -r -t 20 line <&"${server[0]}"; then
        fail "SIG$signal: no 'serving' line within 20 s"; kill -9 "$pid"; continue
    fi
    [[ $line =~ ^fxrates:\ serving\ https://127\.0\.0\.1:([0-9]+) ]] || fail "SIG$signal: unexpected first line: $line"
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

if [ "$failures" -eq 0 ]; then echo "serve command: all checks passed"; fi
exit "$failures"
