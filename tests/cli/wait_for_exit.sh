# Sourced by the CLI tests.
# Waits for child $1 to exit, at most $2 seconds; sets exit_code (to "hung" past the deadline).
# Not in a $(...) subshell: only the parent shell can wait for its child.
wait_for_exit() {
    local pid=$1 limit=$2
    # The watchdog waits in the `wait` builtin, so that killing it takes effect at once.
    ( sleep "$limit" >/dev/null 2>&1 & wait $!; kill -9 "$pid" 2>/dev/null ) &
    local watchdog=$!
    wait "$pid"
    exit_code=$?
    kill "$watchdog" 2>/dev/null
    wait "$watchdog" 2>/dev/null
    if [ "$exit_code" -eq 137 ]; then exit_code=hung; fi
}
