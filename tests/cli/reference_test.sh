#!/usr/bin/env bash
# The program's reference as a user meets it: each command's --help ends with examples and exit
# codes, the man page renders and has them, and the bash completion completes commands, options
# and the fixed values of options, all from the program's own definitions.
# Usage: reference_test.sh PATH/TO/fxrates PATH/TO/fxrates.1 PATH/TO/completion/fxrates
. "$(dirname "$0")/test_shell.sh"
fxrates=$1 man_page=$2 bash_completion=$3

for command in rates compare serve; do
    help=$("$fxrates" "$command" --help) || fail "$command --help: exit code $?"
    grep -q "^Examples:$" <<<"$help" && grep -q "^  fxrates $command " <<<"$help" ||
        fail "$command --help has no examples"
    grep -q "^Exit codes:$" <<<"$help" && grep -Eq "^  0 +" <<<"$help" && grep -Eq "^  1 +" <<<"$help" ||
        fail "$command --help has no exit codes"
done
"$fxrates" --help | grep -q "fxrates COMMAND --help" || fail "fxrates --help does not point to the commands' help"

# The man page, rendered as man does it (groff): every command, the exit status.
rendered=$(groff -man -Tutf8 -ww "$man_page" 2>"$man_page.warnings" | sed 's/.\x08//g') || fail "groff: exit code $?"
[ -s "$man_page.warnings" ] && fail "groff warns about the man page: $(cat "$man_page.warnings")"
rm -f "$man_page.warnings"
for section in NAME SYNOPSIS DESCRIPTION COMMANDS "EXIT STATUS"; do
    grep -q "^$section" <<<"$rendered" || fail "the man page has no $section section"
done
for text in "fxrates rates" "fxrates compare" "fxrates serve" "--max-body" "--rate-limit" "130"; do
    grep -qF -- "$text" <<<"$rendered" || fail "the man page does not mention $text"
done
# Hidden commands stay hidden.
grep -Eq "strategy-worker|fxrates (worker|reference)" <<<"$rendered" && fail "the man page shows an internal command"

# Completion, as bash calls it.
# shellcheck source=/dev/null
. "$bash_completion" || fail "the bash completion script does not load"
complete_words() {
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _fxrates
    echo "${COMPREPLY[*]}"
}
[ "$(complete_words fxrates ra)" = rates ] || fail "'fxrates ra<TAB>' does not complete to rates"
[ "$(complete_words fxrates rates --for)" = --format ] || fail "'--for<TAB>' does not complete to --format"
[ "$(complete_words fxrates rates --format '')" = "table json csv ndjson" ] ||
    fail "'--format <TAB>' does not offer table json csv ndjson: $(complete_words fxrates rates --format '')"
[ "$(complete_words fxrates serve --rate)" = --rate-limit ] || fail "serve's options are not completed"
complete_words fxrates rates --strategy '' | grep -qw process-pool || fail "'--strategy <TAB>' does not offer the strategies"

finish_checks "reference"
