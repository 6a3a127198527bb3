# Sourced by the CLI tests.
# is_sanitized BINARY: true for an ASan or TSan build, whose memory and speed are not a release
# build's (linked dynamically, or with the runtime's symbols inside).
is_sanitized() {
    ldd "$1" | grep -Eq 'lib(a|t)san' || grep -aqE '__(a|t)san_init' "$1"
}
