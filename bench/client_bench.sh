#!/usr/bin/env bash
# The client under load against one out-of-process `fxrates serve`, side by side with wrk (the
# ceiling) and, where Debian's python3-aiohttp is installed, the book's aiohttp program (the peer).
#
# Usage: bench/client_bench.sh LATENCY_MS N C [RUNS]
#   bench/client_bench.sh 100 1000 100     # issue 3's first target: wall <= 1.10 s, <= 0.1 ms CPU/request
#   bench/client_bench.sh 0 20000 64       # the second: at least 70% of wrk's requests/s
# Set PEERS to the folder of the book's Python programs (default ../shared/peers, if present).
set -euo pipefail
cd "$(dirname "$0")/.."
latency=$1 count=$2 connections=$3 runs=${4:-5}
. bench/server.sh

start_server "$latency"
echo "server: $server_line (latency $latency ms)"

# Each client run is followed by a wrk run of about the same length, so that both see the same
# machine: on a shared VM the available CPU drifts by tens of percent within minutes.
: >"$work/ratios"
for run in $(seq "$runs"); do
    line=$("$build/bench/fxrates_bench_client_load" "$url" "$work/ca.pem" "$count" "$connections")
    echo "$line"
    if command -v wrk >/dev/null; then
        ceiling=$(wrk -t1 -c64 -d2s "$url/rates?base=USD" | awk '/Requests\/sec/ { print $2 }')
        ours=$(sed -E 's/.* ([0-9]+) req\/s.*/\1/' <<<"$line")
        echo "  wrk -t1 -c64 -d2s right after (the ceiling): $ceiling req/s; ours is $(awk "BEGIN { printf \"%.0f\", 100 * $ours / $ceiling }")% of it"
        awk "BEGIN { print 100 * $ours / $ceiling }" >>"$work/ratios"
    fi
done
if [ -s "$work/ratios" ]; then
    echo "median share of wrk's req/s: $(sort -n "$work/ratios" | awk '{ v[NR] = $1 } END { printf "%.0f%%", v[int((NR + 1) / 2)] }')"
fi

if /usr/bin/python3 -c 'import aiohttp' 2>/dev/null && [ -d "$peers" ]; then
    for run in $(seq "$runs"); do
        if [ "$latency" = 0 ]; then
            # The most requests per second aiohttp makes with the same connection limit.
            FX_API="$url" FX_CA="$work/ca.pem" /usr/bin/time -f "  (whole process: wall %e s, CPU %U+%S s)" \
                /usr/bin/python3 "$peers/aiohttp_max.py" "$count" "$connections" 2>&1 | sed 's/^/python aiohttp (peer): /'
        else
            /usr/bin/time -f "python aiohttp (peer): N=$count wall=%e s  CPU %U+%S s  peak RSS %M KiB" \
                env FX_API="$url" FX_CA="$work/ca.pem" FX_N="$count" /usr/bin/python3 "$peers/seed/async_aiohttp.py" \
                2>&1 >/dev/null | tail -1
        fi
    done
fi
