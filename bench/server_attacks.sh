#!/usr/bin/env bash
# Hostile clients against `fxrates serve` (issue 13, item 1): for each attack, the server's peak RSS
# (VmHWM) and the latency of a normal curl request made while the attack runs, median of RUNS.
#   chunk-ext  3 TLS connections, each sending one chunk-size line whose extension never ends
#              (reconnecting whenever the server closes them)
#   trailers   the same with trailer fields that never end
#   idle-tcp   10,050 plain TCP connections that send nothing
# Targets: peak RSS < 200 MiB, probe < 100 ms.
# Usage: bench/server_attacks.sh PATH/TO/fxrates [RUNS]
set -uo pipefail
fxrates=$1
runs=${2:-3}
work=$(mktemp -d)
. "$(dirname "$0")/../tests/cli/main_shell.sh"
trap 'in_main_shell && { kill $server_pid $attack_pid 2>/dev/null; rm -rf "$work"; }' EXIT
server_pid=
attack_pid=
# Both the attacker and the server need a descriptor per connection, and some to spare.
ulimit -n "$(ulimit -Hn)"

cat >"$work/attack.py" <<'EOF'
import socket, ssl, sys, threading, time
kind, port = sys.argv[1], int(sys.argv[2])
ready = threading.Barrier(4 if kind != "idle-tcp" else 1)

def endless():
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    first = True
    head = b"POST /rates HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
    head += b"1;x=" if kind == "chunk-ext" else b"0\r\n"
    piece = b"e" * 65536 if kind == "chunk-ext" else (b"X-Trailer: " + b"t" * 1000 + b"\r\n") * 64
    while True:
        try:
            with context.wrap_socket(socket.create_connection(("127.0.0.1", port))) as tls:
                tls.sendall(head)
                sent = 0
                while True:
                    tls.sendall(piece)
                    sent += len(piece)
                    if first and sent >= 1 << 20:
                        break
        except OSError:
            pass
        if first:
            first = False
            ready.wait()

if kind == "idle-tcp":
    held = [socket.create_connection(("127.0.0.1", port)) for _ in range(10050)]
else:
    for _ in range(3):
        threading.Thread(target=endless, daemon=True).start()
ready.wait()
print("ready", flush=True)
time.sleep(3600)
EOF

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf '%-10s %16s %14s   (median of %s runs; each run: peak RSS MiB / probe ms)\n' attack "peak RSS (MiB)" "probe (ms)" "$runs"
for attack in chunk-ext trailers idle-tcp; do
    rss=() probe=()
    for ((run = 1; run <= runs; run++)); do
        coproc server { exec "$fxrates" serve --port 0 --cert-out "$work/ca.pem" 2>&1; }
        server_pid=$server_PID
        IFS= read -r -t 30 line <&"${server[0]}" || { echo "no serving line" >&2; exit 1; }
        port=$(sed -E 's|.*:([0-9]+).*|\1|' <<<"${line%%;*}")
        # Through a FIFO (bash has one coproc at a time): the attacker says "ready" once in full swing.
        rm -f "$work/ready" && mkfifo "$work/ready"
        python3 "$work/attack.py" "$attack" "$port" >"$work/ready" &
        attack_pid=$!
        IFS= read -r -t 120 line <"$work/ready" || { echo "$attack: the attack did not start" >&2; exit 1; }
        seconds=$(curl -s -o /dev/null -w '%{time_total}' --max-time 30 --cacert "$work/ca.pem" \
            "https://localhost:$port/rates?base=USD") || seconds=timeout
        hwm=$(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status")
        kill "$attack_pid" "$server_pid" 2>/dev/null
        wait "$attack_pid" "$server_pid" 2>/dev/null
        rss+=("$hwm")
        probe+=("$(awk -v s="$seconds" 'BEGIN { printf (s == "timeout" ? "99999" : "%.1f"), s * 1000 }')")
    done
    printf '%-10s %16s %14s   (%s)\n' "$attack" "$(printf '%s\n' "${rss[@]}" | median)" \
        "$(printf '%s\n' "${probe[@]}" | median)" "$(paste -d/ <(printf '%s\n' "${rss[@]}") <(printf '%s\n' "${probe[@]}") | paste -sd' ')"
done
