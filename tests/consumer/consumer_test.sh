#!/usr/bin/env bash
# fxrates as a user's project takes it: installed to a prefix of its own and found there alone with
# find_package (every installed header compiled alone too), and as a subproject (add_subdirectory).
# Usage: consumer_test.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
build=$1 source=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)

cmake --install "$build" --prefix "$work/prefix" >/dev/null
for file in lib/cmake/fxrates/fxratesConfig.cmake lib/cmake/fxrates/fxratesConfigVersion.cmake \
    lib/pkgconfig/fxrates.pc share/doc/fxrates/LICENSE include/fxrates/client.hpp; do
    [ -f "$work/prefix/$file" ] || { echo "FAIL: $file is not installed"; exit 1; }
done
if grep -q "fxrates::options\|fxrates_options\|-Werror\|fsanitize" "$work/prefix/lib/cmake/fxrates/"*.cmake; then
    echo "FAIL: the exported targets carry fxrates' own build options"; exit 1
fi

# The prefix alone: no path into the source or build tree.
cmake -S "$source/tests/consumer" -B "$work/installed" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
cmake --build "$work/installed"
"$work/installed/consumer"

cmake -S "$source/tests/consumer" -B "$work/subproject" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DFXRATES_SOURCE_DIR="$source"
cmake --build "$work/subproject" --target consumer
"$work/subproject/consumer"
echo "consumer test passed"
