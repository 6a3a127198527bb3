# Sourced first by every CLI test: strict mode, the failure count and `fail`, a scratch folder
# `work` in the build tree (the working directory CTest gives), main_shell.sh, an EXIT trap that
# removes `work` (a test with more to clean up sets its own, which must remove it too), and
# `finish_checks LABEL` to end the test.
# Usage: . "$(dirname "$0")/test_shell.sh"
set -uo pipefail
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
work=$(mktemp -d "$PWD/$(basename "$0" .sh).XXXXXX")
. "$(dirname "${BASH_SOURCE[0]}")/main_shell.sh"
trap 'in_main_shell && rm -rf "$work"' EXIT

# Ends the test: "LABEL: all checks passed" and exit 0, or how many failed and exit 1 (never the
# count as the exit status, which would wrap to 0 at 256).
finish_checks() {
    if [ "$failures" -eq 0 ]; then
        echo "$1: all checks passed"
        exit 0
    fi
    echo "$1: $failures check(s) failed"
    exit 1
}
