#!/usr/bin/env bash
# The origin programs' own scenarios, whole processes (start-up included), fxrates against the
# Python ports in ../shared/peers/seed-fetch, in one run:
#   1. the URL article: 10 URLs at 100 ms of latency, results in input order;
#   2. the image downloader: 50 images from the demo site into a folder, 8 workers.
# Prints the median of RUNS runs: wall, CPU (user + system) and peak RSS, from /usr/bin/time.
#
# Usage: bench/origin_fetch_bench.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
. bench/server.sh
seed=$peers/seed-fetch

measure() {
    local label=$1
    shift
    : >"$work/times"
    for ((run = 0; run < runs; run++)); do
        rm -rf "$work/out" && mkdir -p "$work/out"
        /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" >"$work/stdout" 2>"$work/err" ||
            { echo "$label: failed: $(tail -2 "$work/err")"; return; }
        cat "$work/time" >>"$work/times"
    done
    median() { awk "{ print $1 }" "$work/times" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
    printf "%-40s wall %6.3f s   CPU %6.3f s   peak RSS %6.1f MiB\n" "$label" \
        "$(median '$1')" "$(median '$2 + $3')" "$(awk "BEGIN { print $(median '$4') / 1024 }")"
}
python_ok=false
[ -d "$seed" ] && /usr/bin/python3 -c 'import aiohttp' 2>/dev/null && python_ok=true

echo "1. ten URLs at 100 ms latency, results in input order (median of $runs)"
start_server 100
ca=$work/ca.pem
for b in USD EUR PLN NOK CZK GBP JPY CHF SEK DKK; do echo "$url/rates?base=$b"; done >"$work/urls.txt"
# The article's programs open a connection per URL; --per-host (default 6, as browsers) is raised to
# match, or the last four would wait a round trip for a free connection.
measure "fxrates fetch (default: 6 per host)" "$build/fxrates" fetch --cacert "$ca" -i "$work/urls.txt"
measure "fxrates fetch --per-host 10" "$build/fxrates" fetch --cacert "$ca" -i "$work/urls.txt" --per-host 10
if $python_ok; then
    for program in thread_per_url queue_pool aiohttp_fetch; do
        measure "python $program" env FX_URLS="$work/urls.txt" FX_CA="$ca" /usr/bin/python3 "$seed/$program.py"
    done
fi
kill "$server_pid" 2>/dev/null
wait "$server_pid" 2>/dev/null || true

echo "2. the image downloader: 50 images of the demo site, 8 workers (median of $runs)"
start_server 0
ca=$work/ca.pem
for ((i = 0; i < 50; i++)); do printf '%s/site/img/image-%02d.png?copy=%d\n' "$url" $((i % 16)) "$i"; done >"$work/images.txt"
# The server makes each image at its first request: made before anyone is timed.
"$build/fxrates" fetch --cacert "$ca" -i "$work/images.txt" >/dev/null
# The Python programs name each file by the link's last segment, so copies of an image overwrite
# each other there; fxrates refuses such collisions, so it is given distinct names.
measure "fxrates fetch -o (8 connections)" "$build/fxrates" fetch --cacert "$ca" -i "$work/images.txt" \
    -o "$work/out" --name '{index}-{name}' --concurrency 8 --per-host 8
if $python_ok; then
    for program in download_simple download_threads download_procs; do
        measure "python $program" env FX_URLS="$work/images.txt" FX_CA="$ca" FX_OUT="$work/out" \
            /usr/bin/python3 "$seed/$program.py"
    done
fi
