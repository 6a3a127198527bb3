#!/usr/bin/env bash
# Sets fxrates up on a Debian 12 machine and runs the demo or the whole test suite:
#
#   cmake/setup.sh demo    install what is missing, build, run the demo on the embedded local server
#   cmake/setup.sh test    install what is missing, build, run every test (what CI runs)
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
# curl is the demo's independent client; ccache and ninja make rebuilds fast.
packages=(g++ cmake ninja-build ccache libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
          libssl-dev doctest-dev libcli11-dev curl)
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

cmake --preset release >/dev/null
cmake --build --preset release

if [ "$mode" = test ]; then
    exec ctest --preset release
fi

# The demo: start the look-alike server on a free port, ask it for the contract's example with curl
# (trusting the certificate the server just made), then stop it with Ctrl-C's signal.
work=$(mktemp -d)
main_shell=$BASHPID
trap '[ "$BASHPID" = "$main_shell" ] && rm -rf "$work"' EXIT # not from a subshell
coproc server { exec build/release/fxrates serve --port 0 --cert-out "$work/ca.pem" 2>&1; }
server_pid=$server_PID # bash unsets server_PID once the process ends
IFS= read -r -t 30 line <&"${server[0]}" || { echo "the server did not start" >&2; exit 1; }
echo "$line"
port=$(sed -E 's|.*https://[^:]+:([0-9]+).*|\1|' <<<"$line")
url="https://localhost:$port/rates?base=USD&symbols=EUR,JPY,GBP,CZK,PLN&date=2019-04-09"
echo "\$ curl --cacert ca.pem '$url'"
curl --silent --show-error --cacert "$work/ca.pem" "$url"
echo
kill -INT "$server_pid"
cat <&"${server[0]}"
wait "$server_pid"
