#!/usr/bin/env bash
# Sets fxrates up on a Debian 12 machine and runs the demo or the whole test suite:
#
#   cmake/setup.sh demo    install what is missing, build, run the demo on the embedded local server
#   cmake/setup.sh test    install what is missing, build, run every test, in the optimised build and
#                          again under ASan + UBSan (what CI runs)
#
# Packages are installed only when missing, so a machine that has everything starts building at once.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-}
if [ "$mode" != demo ] && [ "$mode" != test ]; then
    echo "usage: cmake/setup.sh demo|test" >&2
    exit 2
fi

# libboost1.81-dev, not libboost-dev: Debian 12's default Boost is 1.74, too old for this code.
# ccache and ninja make rebuilds fast; groff renders the man page in its test.
packages=(g++ cmake ninja-build ccache libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
          libssl-dev zlib1g-dev doctest-dev libcli11-dev groff-base)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "fxrates setup: installing ${missing[*]}"
    as_root=()
    [ "$(id -u)" -eq 0 ] || as_root=(sudo)
    "${as_root[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# ccache keys on paths relative to the checkout, so that a fresh clone reuses earlier builds.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
cmake --preset release >/dev/null
cmake --build --preset release

if [ "$mode" = test ]; then
    ctest --preset release
    # The same suite again under AddressSanitizer + UndefinedBehaviorSanitizer, then under
    # ThreadSanitizer; any failure stops here with a non-zero exit.
    cmake --preset asan >/dev/null
    cmake --build --preset asan
    ctest --preset asan
    cmake --preset tsan >/dev/null
    cmake --build --preset tsan
    exec ctest --preset tsan
fi

# The demo: the book's job (five base currencies) done by every concurrency strategy, each in a
# fresh process, against the look-alike server started in-process with 100 ms of latency (no
# network needed; certificate verification stays on). It prints the rate matrix and the
# comparison table, and draws the requests of every strategy to timeline.svg.
build/release/fxrates compare --local --timeline timeline.svg --trace trace.json
echo
echo "The timeline: $(pwd)/timeline.svg (open it in a browser); the trace for Perfetto: $(pwd)/trace.json"
