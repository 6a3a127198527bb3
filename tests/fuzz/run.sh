#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for SECONDS (default 60), starting from the
# corpus in tests/fuzz/corpus. Prints executions and findings; a crash leaves its input in the
# build folder. Not part of CI.
# Usage: tests/fuzz/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
missing=()
for package in clang-14 libclang-rt-14-dev; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
    -DFXRATES_BUILD_FUZZERS=ON -DFXRATES_BUILD_TESTS=OFF -DFXRATES_BUILD_BENCH=OFF -DFXRATES_BUILD_EXAMPLES=OFF \
    -DFXRATES_BUILD_CLI=OFF >/dev/null
cmake --build build/fuzz --target fxrates_fuzz_decode fxrates_fuzz_history_csv fxrates_fuzz_http_response
status=0
for pair in decode:json history_csv:csv http_response:http; do
    target=${pair%%:*} corpus=${pair##*:}
    work="build/fuzz/corpus-$target"
    mkdir -p "$work"
    cp -n tests/fuzz/corpus/"$corpus"/* "$work"/
    echo "== fxrates_fuzz_$target, $seconds s"
    if ! (cd build/fuzz && "./tests/fuzz/fxrates_fuzz_$target" -max_total_time="$seconds" -print_final_stats=1 \
        "corpus-$target" 2>&1 | grep -E "stat::number_of_executed_units|stat::peak_rss|ERROR|SUMMARY|Done"); then
        status=1
    fi
done
exit $status
