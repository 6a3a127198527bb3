#!/usr/bin/env bash
# `fxrates fetch --refresh -o DIR` against `fxrates serve`: the first run keeps each file's
# validators in DIR/.fxrates-meta; a refresh sends them back, and an unchanged file is a 304 that
# writes nothing (same inode, same mtime), while a changed one is fetched again and replaced.
# Usage: fetch_refresh_test.sh PATH/TO/fxrates
. "$(dirname "$0")/test_shell.sh"
fxrates=$1
out=$work/out
err=$work/err
pids=()
cleanup() {
    in_main_shell || return
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT

# Starts `fxrates serve --log-requests ARGS` on a free port, its log in $1; sets $base.
start_server() {
    local log=$1
    shift
    "$fxrates" serve --port 0 --log-requests --cert-out "$work/ca.pem" "$@" >"$log" 2>&1 &
    pids+=($!)
    for _ in $(seq 200); do
        [[ $(head -1 "$log" 2>/dev/null) =~ https://127\.0\.0\.1:([0-9]+) ]] && break
        sleep 0.05
    done
    [[ $(head -1 "$log") =~ https://127\.0\.0\.1:([0-9]+) ]] || { echo "FAIL: no banner: $(cat "$log")"; exit 1; }
    base=https://localhost:${BASH_REMATCH[1]}
}

run() { "$fxrates" fetch --cacert "$work/ca.pem" "$@" >"$out" 2>"$err"; code=$?; }
stamps() { (cd "$1" && for f in "${@:2}"; do stat -c "$f %i:%Y:%s" "$f"; done); }

# The demo site: pages and /bytes/N, all with strong ETags.
start_server "$work/site.log"
urls=("$base/site/" "$base/site/page-1.html" "$base/site/img/image-01.png" "$base/bytes/100000")
files=(index.html page-1.html image-01.png 100000)
printf '%s\n' "${urls[0]} index.html" "${urls[@]:1}" >"$work/list.txt"
run -i "$work/list.txt" -o "$work/site"
[ "$code" = 0 ] || fail "first run: exit code $code: $(cat "$err")"
[ "$(wc -l <"$work/site/.fxrates-meta")" = 4 ] || fail "first run: not one metadata line per file: $(cat "$work/site/.fxrates-meta")"
grep -q '"file":"index.html","url":"https://localhost:[0-9]*/site/","etag":"\\"[^"]*\\"",.*"bytes":[1-9]' \
    "$work/site/.fxrates-meta" || fail "first run: no validators for index.html: $(cat "$work/site/.fxrates-meta")"

# Without --refresh the files are kept, as before.
run -i "$work/list.txt" -o "$work/site"
[ "$code" = 1 ] || fail "second run without --refresh: exit code $code, expected 1"
grep -q 'exists in .* and is kept (--overwrite replaces it, --continue skips it)' "$err" || fail "second run: $(cat "$err")"

# --refresh: every file a 304, nothing written (not even the metadata file), exit code 0.
sleep 1.1 # a write would show in the mtime (seconds)
before=$(stamps "$work/site" "${files[@]}" .fxrates-meta)
lines_before=$(wc -l <"$work/site.log")
run --refresh -i "$work/list.txt" -o "$work/site" --report "$work/report.jsonl"
[ "$code" = 0 ] || fail "refresh: exit code $code: $(cat "$err")"
grep -qx 'fxrates fetch: 4 not modified' "$err" || fail "refresh: no '4 not modified' on stderr: $(cat "$err")"
[ "$(stamps "$work/site" "${files[@]}" .fxrates-meta)" = "$before" ] ||
    fail "refresh: files were written: $before // $(stamps "$work/site" "${files[@]}" .fxrates-meta)"
[ -z "$(find "$work/site" -name '*.fxrates-*' ! -name .fxrates-meta)" ] || fail "refresh: temporary files left"
[ "$(grep -c '"status":304,.*"ok":true,"not_modified":true' "$work/report.jsonl")" = 4 ] ||
    fail "refresh: report lines: $(cat "$work/report.jsonl")"
sleep 0.2
[ "$(tail -n +"$((lines_before + 1))" "$work/site.log" | grep -c ' 304')" = 4 ] ||
    fail "refresh: the server did not answer 304 four times: $(tail -n +"$((lines_before + 1))" "$work/site.log")"

# A file edited on disk (its size changed) is fetched unconditionally and replaced; so is a file
# with no entry.
printf 'edited' >"$work/site/page-1.html"
grep -v '"file":"100000"' "$work/site/.fxrates-meta" >"$work/meta" && cp "$work/meta" "$work/site/.fxrates-meta"
run --refresh -i "$work/list.txt" -o "$work/site"
[ "$code" = 0 ] || fail "refresh after edit: exit code $code: $(cat "$err")"
grep -qx 'fxrates fetch: 2 not modified' "$err" || fail "refresh after edit: $(cat "$err")"
[ "$(wc -c <"$work/site/page-1.html")" != 6 ] || fail "refresh after edit: page-1.html not replaced"
grep -q '"file":"100000"' "$work/site/.fxrates-meta" || fail "refresh after edit: 100000 got no entry back"

# A file edited in place to the same size (its mtime moved) is fetched again too: a 304 would keep
# the edit, and the report would give the server's digest for other bytes.
size=$(wc -c <"$work/site/image-01.png")
head -c "$size" /dev/zero >"$work/site/image-01.png"
run --refresh -i "$work/list.txt" -o "$work/site" --report "$work/same-size.jsonl"
[ "$code" = 0 ] || fail "same-size edit: exit code $code: $(cat "$err")"
grep -qx 'fxrates fetch: 3 not modified' "$err" || fail "same-size edit: $(cat "$err")"
cmp -s "$work/site/image-01.png" <(head -c "$size" /dev/zero) && fail "same-size edit: the edited file was kept"
grep -q '"file":"image-01.png",.*"not_modified":false' "$work/same-size.jsonl" ||
    fail "same-size edit: report: $(grep image-01 "$work/same-size.jsonl")"
grep -q "\"bytes\":[1-9][0-9]*,.*\"not_modified\":true" "$work/same-size.jsonl" ||
    fail "same-size edit: a 304's report line does not give the kept file's size: $(head -1 "$work/same-size.jsonl")"

# Corrupt metadata lines cost a warning and a full fetch of those files, not the run.
printf 'garbage\n{"file":"../x","url":"u","etag":null,"last_modified":null,"bytes":1}\n' >>"$work/site/.fxrates-meta"
run --refresh -i "$work/list.txt" -o "$work/site"
[ "$code" = 0 ] || fail "corrupt metadata: exit code $code: $(cat "$err")"
grep -q 'warning: 2 unreadable line(s) in .*\.fxrates-meta skipped' "$err" || fail "corrupt metadata: $(cat "$err")"

# No output file may take the metadata file's name.
run -i <(echo "$base/site/ .fxrates-meta") -o "$work/site"
[ "$code" = 1 ] && grep -q "a name fetch uses for its own files" "$err" || fail "reserved name: exit $code: $(cat "$err")"

# --root: a file modified between runs is fetched again and replaced; the others are 304s.
mkdir -p "$work/public/docs"
echo one >"$work/public/a.txt"
echo two >"$work/public/b.txt"
echo three >"$work/public/docs/c.txt"
start_server "$work/root.log" --root "$work/public"
printf '%s\n' "$base/a.txt" "$base/b.txt" "$base/docs/c.txt docs/c.txt" >"$work/root.txt"
run -i "$work/root.txt" -o "$work/mirror"
[ "$code" = 0 ] || fail "--root first run: exit code $code: $(cat "$err")"
sleep 1.1 # a new Last-Modified second, and a visible mtime
echo 'two, changed' >"$work/public/b.txt"
before=$(stamps "$work/mirror" a.txt docs/c.txt)
b_inode=$(stat -c %i "$work/mirror/b.txt")
run --refresh -i "$work/root.txt" -o "$work/mirror" --report "$work/root.jsonl"
[ "$code" = 0 ] || fail "--root refresh: exit code $code: $(cat "$err")"
grep -qx 'fxrates fetch: 2 not modified' "$err" || fail "--root refresh: $(cat "$err")"
[ "$(stamps "$work/mirror" a.txt docs/c.txt)" = "$before" ] || fail "--root refresh: unchanged files were written"
[ "$(cat "$work/mirror/b.txt")" = 'two, changed' ] || fail "--root refresh: b.txt not replaced"
[ "$(stat -c %i "$work/mirror/b.txt")" != "$b_inode" ] || fail "--root refresh: b.txt not replaced atomically"
grep -q '"url":"[^"]*/b.txt".*"status":200,.*"not_modified":false' "$work/root.jsonl" ||
    fail "--root refresh: b.txt report: $(cat "$work/root.jsonl")"
sleep 0.2
[ "$(grep -c ' 304' "$work/root.log")" = 2 ] || fail "--root refresh: server log: $(cat "$work/root.log")"

# Runs into one folder at once keep each other's validators. Run X has appended its first 64 KiB
# of lines and waits for one slow item (a server 4 s late) when run Y saves 10 files and, the
# folder having entries, rewrites the metadata file; X's later lines must reach the new file, not
# the one Y replaced, and X's own rewrite must keep Y's.
start_server "$work/shared.log"
"$fxrates" serve --port 0 --plain-port 0 --latency 4000 >"$work/slow.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do
    [[ $(head -1 "$work/slow.log" 2>/dev/null) =~ plain\ http://127\.0\.0\.1:([0-9]+) ]] && break
    sleep 0.05
done
[[ $(head -1 "$work/slow.log") =~ plain\ http://127\.0\.0\.1:([0-9]+) ]] || fail "no banner from the slow server"
slow=http://127.0.0.1:${BASH_REMATCH[1]}
run -i <(echo "$base/bytes/10?first") -o "$work/shared" --name first
padding=$(printf 'p%.0s' $(seq 200))
{ for i in $(seq 300); do echo "$base/bytes/5?$padding&i=$i x$i"; done; echo "$slow/bytes/5 xslow"; } >"$work/x.txt"
"$fxrates" fetch -q --cacert "$work/ca.pem" -i "$work/x.txt" -o "$work/shared" >/dev/null 2>"$work/x.err" &
x_pid=$!
pids+=($x_pid)
deadline=$((SECONDS + 20))
until [ "$(stat -c %s "$work/shared/.fxrates-meta")" -gt 65536 ] || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.01; done
for i in $(seq 10); do echo "$base/bytes/5?y=$i y$i"; done >"$work/y.txt"
run -q -i "$work/y.txt" -o "$work/shared"
[ "$code" = 0 ] || fail "shared folder: run Y: exit $code: $(cat "$err")"
kill -0 "$x_pid" 2>/dev/null || fail "shared folder: run X ended before run Y did: the case was not exercised"
wait "$x_pid" || fail "shared folder: run X: exit $?: $(cat "$work/x.err")"
python3 - "$work/shared/.fxrates-meta" <<'PY' || fail "shared folder: validators lost or doubled (see above)"
import json, sys
files = [json.loads(line)["file"] for line in open(sys.argv[1])]
expected = {"first", "xslow"} | {f"x{i}" for i in range(1, 301)} | {f"y{i}" for i in range(1, 11)}
missing = expected - set(files)
if missing or set(files) - expected:
    sys.exit(f"{len(missing)} files without an entry, e.g. {sorted(missing)[:3]}")
if len(files) != len(set(files)):
    sys.exit(f"{len(files) - len(set(files))} doubled entries after the last rewrite")
PY

finish_checks "fetch --refresh"
