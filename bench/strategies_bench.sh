#!/usr/bin/env bash
# Every strategy as a whole process (`fxrates rates --strategy NAME`, start-up included) against one
# out-of-process `fxrates serve`, next to the book's Python programs doing the same job. Prints
# the median of RUNS runs: wall, CPU (user + system) and peak RSS, from /usr/bin/time. For the
# process pool that RSS is the largest single process only; `fxrates compare` adds up the workers.
#
# Usage: bench/strategies_bench.sh LATENCY_MS REQUESTS [RUNS] [STRATEGY:WORKERS ...]
#   bench/strategies_bench.sh 100 5                      # the seed scenario, every strategy
#   bench/strategies_bench.sh 100 1000 5 async thread-per-item thread-pool:32 process-pool:4
# Set PEERS to the book's programs (default ../shared/peers).
set -euo pipefail
cd "$(dirname "$0")/.."
latency=$1 count=$2 runs=${3:-5}
shift $(( $# >= 3 ? 3 : $# ))
. bench/server.sh

start_server "$latency"

seed=(USD EUR PLN NOK CZK)
bases=$(for ((i = 0; i < count; i++)); do printf '%s,' "${seed[i % 5]}"; done)
bases=${bases%,}

# Runs "$@" RUNS times and prints the median wall, CPU and peak RSS (each column's own median).
measure() {
    local label=$1
    shift
    : >"$work/times"
    for ((run = 0; run < runs; run++)); do
        /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" || true
        cat "$work/time" >>"$work/times"
    done
    median() { awk "{ print $1 }" "$work/times" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
    printf "%-36s wall %6.2f s   CPU %6.2f s   peak RSS %7.1f MiB   (median of %d)\n" "$label" \
        "$(median '$1')" "$(median '$2 + $3')" "$(awk "BEGIN { print $(median '$4') / 1024 }")" "$runs"
}

echo "server: $url, latency $latency ms, $count requests (the book's five bases, cycled)"
strategies=("$@")
if [ ${#strategies[@]} -eq 0 ]; then
    strategies=(sequential thread-per-item thread-pool thread-pool-throttled process-pool async async-throttled offload)
fi
# NAME:N sets the workers of a pool, or for the async strategies the connection limit (default 100).
for entry in "${strategies[@]}"; do
    name=${entry%%:*}
    workers=4 connections=100
    if [[ $entry == *:* ]]; then
        workers=${entry##*:}
        [[ $name == async* ]] && connections=$workers
    fi
    # Each strategy takes only its own limit: --threads for the pools, --concurrency for async.
    label="fxrates $name" limit=()
    case $name in
    async*) label+=" (connections $connections)" limit=(--concurrency "$connections") ;;
    thread-pool* | process-pool | offload) label+=" (workers $workers)" limit=(--threads "$workers") ;;
    esac
    measure "$label" "$build/fxrates" rates --api "$url" --cacert "$work/ca.pem" \
        --base "$bases" --strategy "$name" "${limit[@]}" --timeout 600
done

if /usr/bin/python3 -c 'import requests, aiohttp' 2>/dev/null && [ -d "$peers/seed" ]; then
    for program in synchronous one_thread_per_item thread_pool throttled process_pool async_aiohttp run_in_executor; do
        [ -f "$peers/seed/$program.py" ] || continue
        pool=4
        [ "$program" = thread_pool ] && [ "$count" -gt 5 ] && pool=32
        measure "python $program (pool $pool)" env FX_API="$url" FX_CA="$work/ca.pem" FX_N="$count" FX_POOL="$pool" \
            /usr/bin/python3 "$peers/seed/$program.py"
    done
fi
