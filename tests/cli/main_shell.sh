# Sourced by the CLI tests (and the benchmarks) before they set their EXIT trap: `main_shell` is
# this shell's PID, and `in_main_shell` tells this shell from its subshells, so that a subshell's
# exit never runs the test's cleanup. $BASHPID alone is not enough: a subshell killed just after
# its fork (wait_for_exit's watchdog, when the process it watched had exited already) runs the
# EXIT trap it inherited while $BASHPID still reads as its parent's, and so removed the scratch
# folder of a test still running (CI: "out: No such file or directory"; found with strace).
main_shell=$BASHPID
in_main_shell() {
    [ "$(exec sh -c 'echo "$PPID"')" = "$main_shell" ]
}
