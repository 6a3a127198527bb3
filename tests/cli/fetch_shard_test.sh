#!/usr/bin/env bash
# `fxrates fetch --shard K/N` as N machines run it over one list: each line in exactly one shard's
# report (with its original index and line), each origin in one shard, names under -o that never
# clash, the reports merged back into input order with sort, and K taken from JOB_COMPLETION_INDEX
# (k8s) or SLURM_ARRAY_TASK_ID (slurm), with usage errors that name the variable.
# Usage: fetch_shard_test.sh PATH/TO/fxrates
. "$(dirname "$0")/test_shell.sh"
fxrates=$1
server_pid=
cleanup() {
    in_main_shell || return
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

coproc server { exec "$fxrates" serve --port 0 --plain-port 0 --cert-out "$work/ca.pem" 2>&1; }
server_pid=$server_PID
IFS= read -r -t 20 banner <&"${server[0]}" || { echo "FAIL: no banner from fxrates serve"; exit 1; }
[[ $banner =~ https://127\.0\.0\.1:([0-9]+).*plain\ http://127\.0\.0\.1:([0-9]+) ]] ||
    { echo "FAIL: unexpected banner: $banner"; exit 1; }
tls_port=${BASH_REMATCH[1]}
plain_port=${BASH_REMATCH[2]}

# Origins that answer, each written in several ways (case, explicit default port do not make
# another origin), and origins that refuse (ports 1 to 8: fixed keys, so every shard of 4 gets some).
{
    echo "# a comment: lines and indexes differ"
    for i in 1 2 3; do
        echo "https://localhost:$tls_port/bytes/$i"
        echo "https://LocalHost:$tls_port/rates?base=USD&n=$i"
        echo "http://127.0.0.1:$plain_port/bytes/$((i + 10))"
        echo "HTTP://127.0.0.1:$plain_port/site/?n=$i"
        echo "http://localhost:$plain_port/bytes/$((i + 20))"
    done
    for p in 1 2 3 4 5 6 7 8; do echo "http://127.0.0.1:$p/refused"; done
} >"$work/list.txt"
lines=$(grep -c -v '^#' "$work/list.txt")

shard() { # K N [more arguments], run in $work/K
    local k=$1 n=$2
    shift 2
    "$fxrates" fetch --cacert "$work/ca.pem" --retries 0 -q -i "$work/list.txt" -o "$work/$k" --name '{index}.out' \
        --report "$work/report-$k.jsonl" "$@" >/dev/null 2>"$work/err-$k"
}
field() { grep -o "\"$1\":[0-9]*" | cut -d: -f2; }

for n in 1 2 3 4; do
    rm -rf "$work"/[0-9]* "$work"/report-* "$work"/err-*
    for ((k = 0; k < n; ++k)); do
        shard "$k" "$n" --shard "$k/$n"
        code=$?
        [ "$code" -le 2 ] || fail "$k/$n: exit code $code: $(cat "$work/err-$k")"
        grep -q -- --shard "$work/err-$k" && fail "$k/$n: refused: $(cat "$work/err-$k")"
    done
    # Every input line in exactly one report, by its index and its line in the file.
    [ "$(cat "$work"/report-*.jsonl | field index | sort -n | tr '\n' ' ')" = "$(seq -s ' ' 1 "$lines") " ] ||
        fail "$n shards: the reports do not hold each index once: $(cat "$work"/report-*.jsonl | field index | sort -n | tr '\n' ' ')"
    [ "$(cat "$work"/report-*.jsonl | field line | sort -n | tr '\n' ' ')" = "$(seq -s ' ' 2 "$((lines + 1))") " ] ||
        fail "$n shards: the reports do not hold each line once"
    # Each origin in one shard only, however it is written.
    for origin in "s://localhost:$tls_port" "p://127.0.0.1:$plain_port" "p://localhost:$plain_port" "p://127.0.0.1:3/"; do
        holding=$(grep -il "$origin" "$work"/report-*.jsonl | wc -l)
        [ "$holding" = 1 ] || fail "$n shards: $origin is in $holding reports"
    done
    # The names keep the input's numbering: the N folders hold each fetched index once.
    [ "$(ls "$work"/[0-9]* | grep -c '\.out$')" = $((lines - 8)) ] ||
        fail "$n shards: not every body was saved once: $(ls "$work"/[0-9]*)"
    for ((k = 0; k < n; ++k)); do
        for f in "$work/$k"/*.out; do
            [ -e "$f" ] || continue
            i=$(basename "$f" .out)
            grep -q "\"index\":$i,.*\"file\":\"$i.out\"" "$work/report-$k.jsonl" || fail "$n shards: $f is not in its report"
        done
    done
    # Merged with sort, the reports are one report in input order.
    [ "$(sort -t: -k3,3n "$work"/report-*.jsonl | field index | tr '\n' ' ')" = "$(seq -s ' ' 1 "$lines") " ] ||
        fail "$n shards: sort does not merge the reports into input order"
done
for k in 0 1 2 3; do
    [ -s "$work/report-$k.jsonl" ] || fail "4 shards: shard $k is empty (the refused ports spread over all four)"
done

# K from the environment gives the same lines as K written out.
for k in 0 1 2 3; do
    cp "$work/report-$k.jsonl" "$work/numbered-$k.jsonl"
    rm -rf "${work:?}/$k"
    JOB_COMPLETION_INDEX=$k shard "$k" 4 --shard k8s/4
    [ "$(field line <"$work/report-$k.jsonl")" = "$(field line <"$work/numbered-$k.jsonl")" ] ||
        fail "k8s/4 with JOB_COMPLETION_INDEX=$k: not the lines of $k/4"
    rm -rf "${work:?}/$k"
    SLURM_ARRAY_TASK_ID=$((k + 1)) SLURM_ARRAY_TASK_MIN=1 shard "$k" 4 --shard slurm/4
    [ "$(field line <"$work/report-$k.jsonl")" = "$(field line <"$work/numbered-$k.jsonl")" ] ||
        fail "slurm/4 with SLURM_ARRAY_TASK_ID=$((k + 1)) and SLURM_ARRAY_TASK_MIN=1: not the lines of $k/4"
done

# A shard with no lines is a run that fetched nothing, not a failure.
echo "http://127.0.0.1:1/refused" >"$work/one.txt"
for k in 0 1 2 3; do
    "$fxrates" fetch --retries 0 -q -i "$work/one.txt" --shard "$k/4" --report "$work/one-$k.jsonl" >/dev/null 2>"$work/err"
    code=$?
    if [ "$k" = 1 ]; then
        [ "$code" = 1 ] && [ -s "$work/one-$k.jsonl" ] || fail "one line, its shard: exit code $code"
    else
        [ "$code" = 0 ] && [ ! -s "$work/one-$k.jsonl" ] || fail "one line, shard $k: exit code $code: $(cat "$work/err")"
    fi
done

# Usage errors name what is wrong, and nothing is fetched.
usage() { # EXPECTED-TEXT K/N [VARIABLE=VALUE...]
    env -u JOB_COMPLETION_INDEX -u SLURM_ARRAY_TASK_ID -u SLURM_ARRAY_TASK_MIN "${@:3}" \
        "$fxrates" fetch -i "$work/list.txt" --shard "$2" >"$work/out" 2>"$work/err"
    code=$?
    [ "$code" = 1 ] && grep -qF -- "$1" "$work/err" && [ ! -s "$work/out" ] ||
        fail "usage error --shard $2 ${*:3}: exit code $code: $(cat "$work/err")"
}
usage "--shard k8s/4: JOB_COMPLETION_INDEX is not set" k8s/4
usage 'JOB_COMPLETION_INDEX is "x", not a number' k8s/4 JOB_COMPLETION_INDEX=x
usage "K is 4 (from JOB_COMPLETION_INDEX), not from 0 to 3" k8s/4 JOB_COMPLETION_INDEX=4
usage "SLURM_ARRAY_TASK_ID is not set" slurm/4 JOB_COMPLETION_INDEX=1
usage "K is 4, not from 0 to 3" 4/4
usage "not a number from 1 to 65536" 0/0
usage "has no /" 3

finish_checks "fetch --shard"
