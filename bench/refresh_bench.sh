#!/usr/bin/env bash
# `fxrates fetch --refresh`: what re-fetching an unchanged folder costs. Fetches FILES files of SIZE
# bytes (`/bytes/SIZE?i=K`) from one `fxrates serve` into a folder, then refreshes it: prints wall
# and CPU time of both runs (from /usr/bin/time), checks that every file kept its inode and mtime,
# and, under strace, counts the refresh's file-writing system calls (opens for writing, renames,
# unlinks; writes to sockets and stderr are not file writes).
# Usage: bench/refresh_bench.sh FILES [SIZE] [CONNECTIONS]
#   bench/refresh_bench.sh 10000           # the issue's figure: 10,000 files of 16 KiB
set -euo pipefail
cd "$(dirname "$0")/.."
files=$1 size=${2:-16384} connections=${3:-100}
. bench/server.sh

start_server 0
list=$work/urls.txt
for ((i = 1; i <= files; i++)); do echo "$url/bytes/$size?i=$i f$i"; done >"$list"
out=$(mktemp -d "${OUT_PARENT:-$work}/refresh-bench.XXXXXX")/out
fetch=("$build/fxrates" fetch -q --cacert "$work/ca.pem" -i "$list" -o "$out" --concurrency "$connections")
timed() {
    local label=$1
    shift
    /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" 2>"$work/err" || { echo "$label failed: $(tail -3 "$work/err")"; exit 1; }
    read -r wall user sys rss <"$work/time"
    printf '%-14s wall %6.2f s  cpu %6.2f s  peak RSS %4d MiB  %s\n' "$label" "$wall" "$(echo "$user + $sys" | bc)" \
        $((rss / 1024)) "$(grep -v 'Command exited' "$work/err" | tr '\n' ' ')"
}

timed "first run" "${fetch[@]}"
[ "$(find "$out" -type f ! -name .fxrates-meta | wc -l)" = "$files" ] || { echo "first run: missing files"; exit 1; }
(cd "$out" && stat -c '%n %i:%Y' -- f*) | sort >"$work/before"
sleep 1.1 # a write would show in the mtimes
timed "refresh" "${fetch[@]}" --refresh
(cd "$out" && stat -c '%n %i:%Y' -- f*) | sort >"$work/after"
echo "files with the same inode and mtime after the refresh: $(comm -12 "$work/before" "$work/after" | wc -l) of $files"
stat -c '.fxrates-meta %i:%Y' "$out/.fxrates-meta" >"$work/meta_before"
strace -f -qq -e trace=openat,rename,renameat,renameat2,link,linkat,unlink,unlinkat,truncate,ftruncate \
    -o "$work/strace" "${fetch[@]}" --refresh 2>/dev/null
writes=$(grep -cE 'O_WRONLY|O_RDWR|O_CREAT|rename|link\(|linkat|unlink|truncate' "$work/strace" || true)
echo "refresh under strace: $writes file-writing system calls (opens for writing, renames, links, unlinks) among $(wc -l <"$work/strace") traced"
[ "$(stat -c '.fxrates-meta %i:%Y' "$out/.fxrates-meta")" = "$(cat "$work/meta_before")" ] &&
    echo "the metadata file was not rewritten either"
rm -rf "$(dirname "$out")"

# The peer: wget2 -N (timestamping: If-Modified-Since, the server's Last-Modified kept as each
# file's mtime) on a folder it filled itself, with as many threads as fxrates has connections.
if command -v wget2 >/dev/null; then
    wout=$(mktemp -d "${OUT_PARENT:-$work}/refresh-bench-wget2.XXXXXX")
    cut -d' ' -f1 "$list" >"$work/urls-only.txt"
    wget=(wget2 -q --ca-certificate="$work/ca.pem" -i "$work/urls-only.txt" -P "$wout" --max-threads="$connections"
          --no-robots --no-host-directories)
    timed "wget2 first" "${wget[@]}"
    (cd "$wout" && find . -type f -printf '%p %i:%T@\n') | sort >"$work/wbefore"
    sleep 1.1
    timed "wget2 -N" "${wget[@]}" -N
    (cd "$wout" && find . -type f -printf '%p %i:%T@\n') | sort >"$work/wafter"
    echo "wget2 -N: files with the same inode and mtime: $(comm -12 "$work/wbefore" "$work/wafter" | wc -l) of $(wc -l <"$work/wbefore")"
    rm -rf "$wout"
fi
