#!/usr/bin/env bash
# `fxrates fetch` against the tools people reach for today, in one run, against one `fxrates serve`
# on this machine: N files of SIZE bytes (`/bytes/SIZE?i=K`) into an output folder, CONNECTIONS at
# once. Prints the median of RUNS runs: wall, CPU (user + system) and peak RSS, from /usr/bin/time,
# and CPU per file; every tool's files are checked (count and total size) after each run.
#
# Usage: bench/fetch_bench.sh FILES SIZE CONNECTIONS [RUNS] [LATENCY_MS]
#   bench/fetch_bench.sh 10000 16384 100 5        # the issue's many-files scenario
#   bench/fetch_bench.sh 1 1073741824 1 3         # one 1 GiB body
#   bench/fetch_bench.sh 10 1024 10 5 100         # the URL article's scenario: 10 URLs, 100 ms
# Peers that are not installed are skipped: curl, wget2, aria2c (Debian packages curl, wget2,
# aria2), and the origin's Python programs from $PEERS/seed-fetch (python3-aiohttp; queue_pool.py,
# which keeps the bodies in memory, so its files are not checked); ONLY="curl"
# keeps fxrates and the peers named. OUT_PARENT=/dev/shm writes to tmpfs: on this VM, creating
# files on ext4 costs more kernel time than everything else and varies by ±30% between runs (it
# scans recently deleted inodes), which drowns the tools' own cost.
set -euo pipefail
cd "$(dirname "$0")/.."
files=$1 size=$2 connections=$3 runs=${4:-5} latency=${5:-0}
. bench/server.sh

start_server "$latency"
ca=$work/ca.pem
list=$work/urls.txt
for ((i = 1; i <= files; i++)); do echo "$url/bytes/$size?i=$i"; done >"$list"
# curl: one url/output pair per file; aria2c: an out= name per file (each URL's last segment is the same).
awk '{ printf "url = \"%s\"\noutput = \"%d\"\n", $1, NR }' "$list" >"$work/curl.config"
awk '{ printf "%s\n  out=%d\n", $1, NR }' "$list" >"$work/aria2.list"
out=$(mktemp -d "${OUT_PARENT:-$work}/fetch-bench.XXXXXX")/out
wanted() { [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]; }

# Runs "$@" RUNS times into a fresh $out, checks the files (unless check_files=0: a program that
# keeps the bodies in memory), prints the medians.
check_files=1
measure() {
    local label=$1
    shift
    : >"$work/times"
    for ((run = 0; run < runs; run++)); do
        rm -rf "$out" && mkdir -p "$out"
        if ! /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" >"$work/stdout" 2>"$work/err"; then
            echo "$label: failed: $(tail -3 "$work/err")"
            return
        fi
        cat "$work/time" >>"$work/times"
        [ "$check_files" = 1 ] || continue
        local count bytes
        # fxrates keeps the validators of what it saved in DIR/.fxrates-meta: not a fetched file.
        count=$(find "$out" -type f ! -name .fxrates-meta | wc -l)
        bytes=$(find "$out" -type f ! -name .fxrates-meta -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
        if [ "$count" != "$files" ] || [ "$bytes" != $((files * size)) ]; then
            echo "$label: wrong output: $count files, $bytes bytes (expected $files, $((files * size)))"
        fi
    done
    median() { awk "{ print $1 }" "$work/times" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
    local wall cpu rss
    wall=$(median '$1') cpu=$(median '$2 + $3') rss=$(median '$4')
    printf "%-34s wall %7.3f s   CPU %7.3f s   %7.1f µs CPU/file   peak RSS %7.1f MiB   %8.1f MB/s\n" "$label" \
        "$wall" "$cpu" "$(awk "BEGIN { print $cpu * 1e6 / $files }")" "$(awk "BEGIN { print $rss / 1024 }")" \
        "$(awk "BEGIN { print $files * $size / 1e6 / $wall }")"
}

echo "server: $url, latency $latency ms; $files files of $size bytes, $connections connections; median of $runs runs"
measure "fxrates fetch" "$build/fxrates" fetch --cacert "$ca" -i "$list" -o "$out" --name '{index}' -q \
    --concurrency "$connections" --per-host "$connections"
if command -v curl >/dev/null && wanted curl; then
    measure "curl --parallel" curl --silent --show-error --fail --cacert "$ca" --parallel --parallel-max "$connections" \
        --output-dir "$out" -K "$work/curl.config"
fi
if command -v aria2c >/dev/null && wanted aria2c; then
    measure "aria2c -j" aria2c --quiet=true --ca-certificate="$ca" -j "$connections" --max-connection-per-server=1 \
        --allow-overwrite=true --auto-file-renaming=false --file-allocation=none -d "$out" -i "$work/aria2.list"
fi
if command -v wget2 >/dev/null && wanted wget2; then
    measure "wget2 --max-threads" wget2 --quiet --ca-certificate="$ca" --max-threads="$connections" --no-robots \
        -P "$out" -i "$list"
fi
if wanted aiohttp && /usr/bin/python3 -c 'import aiohttp' 2>/dev/null && [ -f "$peers/seed-fetch/aiohttp_fetch.py" ]; then
    measure "python aiohttp (limit $connections)" env FX_URLS="$list" FX_CA="$ca" FX_OUT="$out" FX_POOL="$connections" \
        /usr/bin/python3 "$peers/seed-fetch/aiohttp_fetch.py"
fi
# The URL article's queue of 50 threads keeps each body in memory at its index (it saves no file);
# urllib opens a connection per URL.
if wanted queue && /usr/bin/python3 -c 'import ssl' 2>/dev/null && [ -f "$peers/seed-fetch/queue_pool.py" ]; then
    check_files=0
    measure "python queue, 50 threads (no files)" env FX_URLS="$list" FX_CA="$ca" \
        /usr/bin/python3 "$peers/seed-fetch/queue_pool.py"
    check_files=1
fi
rm -rf "$(dirname "$out")"
