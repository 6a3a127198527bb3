#!/usr/bin/env bash
# Streaming input (issue 16): what a list of N lines read from a pipe costs `fxrates fetch`, next to
# aria2c and curl with the same list. Each run is `seq N | sed ... | FETCHER`, N lines
# `URL/bytes/1024?i=K` against one `fxrates serve` on this machine, CONNECTIONS at once (all tools).
# Prints wall, CPU (user + system) and peak RSS of the fetcher alone (/usr/bin/time wraps the last
# command of the pipeline, so seq and sed are neither counted nor mistaken for the peak), the server's
# CPU over the same run, and a status: every run is checked (report records, HTTP codes or files) and
# has a time limit, so a tool that runs out of memory or hangs is reported as failed.
#
#   fxrates        fetch -i - --report FILE, bodies thrown away (stdout to /dev/null)
#   fxrates -o     the same, and each body saved under -o DIR --name '{index}' (DIR on tmpfs): the
#                  folder's validators (.fxrates-meta) are appended as files are saved
#   curl           --parallel --parallel-max CONNECTIONS -K -, `url = ...` + `output = "/dev/null"`
#                  per URL (curl reads its whole config before the first transfer)
#   aria2c         -i - with `  out=K` per URL (every URL's last segment is the same), -j CONNECTIONS,
#                  bodies to DIR on tmpfs; aria2c --deferred-input=true: its answer to "lazy input"
#                  (aria2 issue 1462)
# The tools that write one file per URL (fxrates -o, aria2c) run only up to FILES_MAX lines
# (100,000: a million 1 KiB files take a million inodes and ~4 GB of tmpfs pages).
#
# Usage: bench/stream_bench.sh [N...]          (default: 10000 100000)
#   bench/stream_bench.sh 10000 100000          # everyone at 10k and 100k
#   ONLY="fxrates curl" bench/stream_bench.sh 1000000  # the issue's 1M-line run (no files)
# Peers that are not installed are skipped (Debian packages curl and aria2).
# Environment: ONLY="fxrates fxrates-o curl aria2c aria2c-deferred" (default: all), RUNS (3: runs
# for N <= 10000, whose median is shown; larger N run once), CONNECTIONS (100), TIMEOUT (1200 s a
# run), MEM_LIMIT_MIB (8192: `ulimit -v` of each run, so a runaway peer fails instead of taking the
# shared machine down), FILES_MAX (100000), OUT_PARENT (/dev/shm).
set -euo pipefail
cd "$(dirname "$0")/.."
ns=("$@")
[ ${#ns[@]} -gt 0 ] || ns=(10000 100000)
runs=${RUNS:-3} connections=${CONNECTIONS:-100} limit=${TIMEOUT:-1200}
mem_limit=${MEM_LIMIT_MIB:-8192} files_max=${FILES_MAX:-100000} size=1024
. bench/server.sh

start_server 0
ca=$work/ca.pem
scratch=$(mktemp -d "${OUT_PARENT:-/dev/shm}/stream-bench.XXXXXX")
trap 'in_main_shell && { kill "$server_pid" 2>/dev/null; rm -rf "$work" "$scratch"; }' EXIT
out=$scratch/out report=$scratch/report.ndjson
wanted() { [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]; }
have() { command -v "$1" >/dev/null; }
ticks=$(getconf CLK_TCK)
server_cpu() { awk -v t="$ticks" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$server_pid/stat"; }

# The lists, as the fetchers' standard input: `seq N | sed ...` (the URL is all the script needs).
urls="sed 's|^|$url/bytes/$size?i=|'"
curl_config="sed 's|.*|url = \"$url/bytes/$size?i=&\"\\noutput = \"/dev/null\"|'"
aria2_list="sed 's|.*|$url/bytes/$size?i=&\\n  out=&|'"

# check_KIND N: prints nothing when the run's output is whole, else what is wrong.
check_report() {
    local records ok
    records=$(wc -l <"$report") ok=$(grep -c '"ok":true' "$report" || true)
    [ "$records" = "$1" ] && [ "$ok" = "$1" ] || echo "$records report records, $ok ok (expected $1)"
}
check_files() {
    local count bytes
    count=$(find "$out" -type f ! -name .fxrates-meta | wc -l)
    bytes=$(find "$out" -type f ! -name .fxrates-meta -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
    [ "$count" = "$1" ] && [ "$bytes" = $(($1 * size)) ] || echo "$count files, $bytes bytes (expected $1, $(($1 * size)))"
}
check_codes() {
    local ok
    ok=$(grep -cx 200 "$scratch/stdout" || true)
    [ "$ok" = "$1" ] || echo "$ok answers with 200 (expected $1)"
}

# measure LABEL N CHECK LIST STDOUT FETCHER...: runs `seq N | LIST | FETCHER >STDOUT` (RUNS times
# for N <= 10000, else once), each in a fresh $out, and prints one row of medians, or why it failed.
measure() {
    local label=$1 n=$2 check=$3 list=$4 stdout=$5
    shift 5
    local fetcher times=$scratch/times count=$runs
    fetcher=$(printf '%q ' "$@")
    ((n <= 10000)) || count=1
    : >"$times"
    for ((run = 0; run < count; run++)); do
        rm -rf "$out" "$report" && mkdir -p "$out"
        local rc=0 before after problem
        before=$(server_cpu)
        timeout -k 10 "$limit" bash -c "ulimit -v $((mem_limit * 1024)); seq $n | $list |
            /usr/bin/time -f '%e %U %S %M' -o $scratch/time $fetcher >$stdout" 2>"$scratch/err" || rc=$?
        after=$(server_cpu)
        if ((rc == 124 || rc == 137)); then
            problem="timed out after $limit s"
        elif ((rc != 0)); then
            problem="exit $rc: $(grep -v 'Command exited' "$scratch/err" | tail -2 | tr '\n' ' ' | cut -c1-150)"
            grep -q 'terminated by signal' "$scratch/time" 2>/dev/null && problem="$problem ($(head -1 "$scratch/time"))"
        else
            problem=$("check_$check" "$n")
        fi
        if [ -n "$problem" ]; then
            printf '%-24s %9d   failed: %s\n' "$label" "$n" "$problem"
            rm -rf "$out"
            return
        fi
        echo "$(tail -1 "$scratch/time") $(echo "$after - $before" | bc)" >>"$times"
    done
    rm -rf "$out"
    median() { awk "{ print $1 }" "$times" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
    printf '%-24s %9d %9.2f %9.2f %9.1f %10.2f   ok (%s)\n' "$label" "$n" "$(median '$1')" "$(median '$2 + $3')" \
        "$(awk "BEGIN { print $(median '$4') / 1024 }")" "$(median '$5')" \
        "$( ((count > 1)) && echo "median of $count" || echo "1 run")"
}

echo "server: $url (CPU shown beside each run); $connections connections; bodies of $size bytes; $(nproc) cores"
echo "limits: $limit s and $mem_limit MiB of address space a run; files only up to $files_max lines, on $(dirname "$scratch")"
printf '%-24s %9s %9s %9s %9s %10s   %s\n' tool N "wall s" "cpu s" "RSS MiB" "server s" status
fxrates=("$build/fxrates" fetch -q --cacert "$ca" --concurrency "$connections" --per-host "$connections" -i -)
curl=(curl --silent --show-error --no-progress-meter --fail --cacert "$ca" --parallel --parallel-max "$connections"
    --write-out '%{http_code}\n' -K -)
aria2c=(aria2c --quiet=true --ca-certificate="$ca" -j "$connections" --max-connection-per-server=1 --allow-overwrite=true
    --auto-file-renaming=false --file-allocation=none -d "$out" -i -)
for n in "${ns[@]}"; do
    wanted fxrates && measure "fxrates --report" "$n" report "$urls" /dev/null "${fxrates[@]}" --report "$report"
    if wanted fxrates-o; then
        if ((n <= files_max)); then
            measure "fxrates -o --report" "$n" files "$urls" /dev/null "${fxrates[@]}" --report "$report" \
                -o "$out" --name '{index}'
        else
            printf '%-24s %9d   not run: one file per URL (FILES_MAX=%d)\n' "fxrates -o --report" "$n" "$files_max"
        fi
    fi
    if have curl && wanted curl; then
        measure "curl --parallel" "$n" codes "$curl_config" "$scratch/stdout" "${curl[@]}"
    fi
    for variant in aria2c aria2c-deferred; do
        have aria2c && wanted "$variant" || continue
        extra=() label="aria2c -j"
        [ "$variant" = aria2c ] || extra=(--deferred-input=true) label="aria2c --deferred-input"
        if ((n <= files_max)); then
            measure "$label" "$n" files "$aria2_list" /dev/null "${aria2c[@]}" "${extra[@]}"
        else
            printf '%-24s %9d   not run: one file per URL (FILES_MAX=%d)\n' "$label" "$n" "$files_max"
        fi
    done
done
