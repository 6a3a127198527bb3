#!/usr/bin/env bash
# `fxrates fetch --loops N`: what more event loops gain on this machine. Runs `--loops 1` and
# `--loops 2` (or the LOOPS given) on (a) FILES files of SIZE bytes (`/bytes/SIZE?i=K`) into a
# folder on OUT_PARENT (default /dev/shm, so the disk is not what is measured), 100 connections
# and as many per host (one origin), and (b) one BIG-byte body to a file, interleaved, RUNS times
# each; prints the median wall, fetch CPU (user + sys), peak RSS, and the server's CPU over the
# same run (it shares the machine's cores).
# Usage: bench/loops_bench.sh [FILES] [SIZE] [BIG] [RUNS]
#   bench/loops_bench.sh 10000 16384 1073741824 5    # the issue's figures
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-10000} size=${2:-16384} big=${3:-1073741824} runs=${4:-5}
loops=${LOOPS:-1 2}
. bench/server.sh
start_server 0
ticks=$(getconf CLK_TCK)
server_cpu() { awk -v t="$ticks" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$server_pid/stat"; }
parent=$(mktemp -d "${OUT_PARENT:-/dev/shm}/loops-bench.XXXXXX")
trap 'in_main_shell && { kill "$server_pid" 2>/dev/null; rm -rf "$work" "$parent"; }' EXIT
for ((i = 1; i <= files; i++)); do echo "$url/bytes/$size?i=$i"; done >"$work/many.txt"
echo "$url/bytes/$big big.bin" >"$work/big.txt"

# One run: prints "wall cpu rss_mib server_cpu".
run() { # LIST LOOPS
    rm -rf "$parent/out"
    local before after
    before=$(server_cpu)
    /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$build/fxrates" fetch -q --cacert "$work/ca.pem" -i "$1" \
        -o "$parent/out" --name '{index}' --concurrency 100 --per-host 100 --loops "$2" 2>"$work/err" ||
        { echo "fetch failed: $(tail -3 "$work/err")" >&2; exit 1; }
    after=$(server_cpu)
    read -r wall user sys rss <"$work/time"
    echo "$wall $(echo "$user + $sys" | bc) $((rss / 1024)) $(echo "$after - $before" | bc)"
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

echo "server: $url on this machine ($(nproc) cores); $runs runs each, interleaved; medians"
printf '%-28s %6s %8s %8s %8s %10s\n' job loops "wall s" "cpu s" "RSS MiB" "server s"
for job in many big; do
    for ((r = 0; r < runs; r++)); do
        for n in $loops; do run "$work/$job.txt" "$n" >>"$work/$job-$n"; done
    done
    for n in $loops; do
        label=$([ "$job" = many ] && echo "$files x $size B" || echo "one body of $big B")
        printf '%-28s %6s %8s %8s %8s %10s\n' "$label" "$n" "$(cut -d' ' -f1 "$work/$job-$n" | median)" \
            "$(cut -d' ' -f2 "$work/$job-$n" | median)" "$(cut -d' ' -f3 "$work/$job-$n" | median)" \
            "$(cut -d' ' -f4 "$work/$job-$n" | median)"
    done
done
