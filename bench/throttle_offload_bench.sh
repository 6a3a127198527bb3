#!/usr/bin/env bash
# Issue 4's figures in one run: the throttle (R=10, 50 requests) against an out-of-process
# `fxrates serve`, next to the book's throttled program; and the offload round trip next to
# Python's loop.run_in_executor, with the machine's own hand-off floors (see offload_roundtrip.cpp). Set PEERS to the book's programs (default ../shared/peers).
#
# Usage: bench/throttle_offload_bench.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
. bench/server.sh

start_server 0

for run in $(seq "$runs"); do
    "$build/bench/fxrates_bench_throttle_load" "$url" "$work/ca.pem" 50 10
done
if /usr/bin/python3 -c 'import requests' 2>/dev/null && [ -f "$peers/seed/throttled.py" ]; then
    for run in $(seq "$runs"); do
        /usr/bin/time -f "python throttled (peer): N=50 R=10 wall=%e s  CPU %U+%S s" \
            env FX_API="$url" FX_CA="$work/ca.pem" FX_N=50 FX_RATE=10 /usr/bin/python3 "$peers/seed/throttled.py" \
            2>&1 >/dev/null | tail -1
    done
fi

for run in $(seq "$runs"); do
    "$build/bench/fxrates_bench_offload_roundtrip"
done
# Pinned to one core, a hand-off is a context switch rather than a wake-up of another (virtual) CPU.
if command -v taskset >/dev/null; then
    for run in $(seq "$runs"); do
        taskset -c 0 "$build/bench/fxrates_bench_offload_roundtrip" 20000 4 sleeping | sed 's/^/one core: /'
    done
fi
if [ -f "$peers/offload_roundtrip.py" ]; then
    for run in $(seq "$runs"); do
        /usr/bin/python3 "$peers/offload_roundtrip.py" | sed 's/^/python (peer): /'
    done
fi
