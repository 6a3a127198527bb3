#!/usr/bin/env bash
# `fxrates fetch --timeout` bounds each URL, every attempt together, however long its body takes:
# a download that trickles in for about 40 s (the server's drip fault: a byte every 100 ms) is
# fetched whole under `--timeout 120`, where the client's own per-attempt limit (30 s) and per-item
# limit (60 s, a rates request's) once cut it; and `--timeout 5` still stops it, naming the limit.
# Usage: fetch_timeout_test.sh PATH/TO/fxrates
. "$(dirname "$0")/test_shell.sh"
fxrates=$1
server_pid=
trap 'in_main_shell && { [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null; rm -rf "$work"; }' EXIT

coproc server { exec "$fxrates" serve --port 0 --plain-port 0 --fault drip:1 2>&1; }
server_pid=$server_PID
IFS= read -r -t 20 banner <&"${server[0]}" || { echo "FAIL: no banner from fxrates serve"; exit 1; }
[[ $banner =~ plain\ http://127\.0\.0\.1:([0-9]+) ]] || { echo "FAIL: unexpected banner: $banner"; exit 1; }
url=http://127.0.0.1:${BASH_REMATCH[1]}/bytes/200

"$fxrates" fetch -q --timeout 120 --report "$work/slow.jsonl" "$url" >"$work/body" 2>"$work/err"
code=$?
[ "$code" = 0 ] || fail "a 40 s download under --timeout 120: exit $code: $(cat "$work/err")"
[ "$(wc -c <"$work/body")" = 200 ] || fail "a 40 s download under --timeout 120: $(wc -c <"$work/body") bytes"

"$fxrates" fetch -q --timeout 5 "$url" >/dev/null 2>"$work/err"
code=$?
[ "$code" = 1 ] && grep -q "total timeout (5 s)" "$work/err" || fail "--timeout 5: exit $code: $(cat "$work/err")"

# A DNS server that never answers (a getaddrinfo shim that sleeps a minute): the item fails at
# its --timeout, and the program ends then, not when the lookup would have returned.
. "$(dirname "$0")/wait_for_exit.sh"
if ${CC:-cc} -shared -fPIC -o "$work/slow_dns.so" "$(dirname "$0")/../support/slow_dns_shim.c" -ldl 2>"$work/cc-err"; then
    LD_PRELOAD=$work/slow_dns.so ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
        "$fxrates" fetch -q --timeout 1 "http://nowhere.hang.test/x" "$url" >/dev/null 2>"$work/err" &
    wait_for_exit $! 20
    [ "$exit_code" = 1 ] && grep -q "cannot resolve the host 'nowhere.hang.test' within the total timeout (1 s)" "$work/err" ||
        fail "a lookup that never returns: exit $exit_code (hung: still waiting for it): $(cat "$work/err")"
else
    fail "cannot build the DNS shim: $(cat "$work/cc-err")"
fi

finish_checks "fetch --timeout"
