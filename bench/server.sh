# Sourced by the bench scripts: starts `fxrates serve` on a free port with LATENCY ms of delay,
# and sets build, peers, work (a scratch folder with the server's ca.pem), url and server_pid.
# Everything is stopped and removed when the script exits.
# Usage: start_server LATENCY
build=${BUILD:-build/release}
peers=${PEERS:-../shared/peers}
work=$(mktemp -d)
. "$(dirname "$0")/../tests/cli/main_shell.sh"
trap 'in_main_shell && { kill "$server_pid" 2>/dev/null; rm -rf "$work"; }' EXIT

start_server() {
    coproc server { exec "$build/fxrates" serve --port 0 --latency "$1" --cert-out "$work/ca.pem" 2>&1; }
    server_pid=$server_PID # bash unsets server_PID when the process ends
    IFS= read -r -t 30 server_line <&"${server[0]}"
    url="https://localhost:$(sed -E 's|.*:([0-9]+) .*|\1|' <<<"$server_line")"
}
