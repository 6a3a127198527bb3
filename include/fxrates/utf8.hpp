#pragma once

// UTF-8 checks for untrusted text (a server's message in `diagnostics`, echoed query values) before
// it goes into JSON, XML or a terminal, each of which must stay well-formed. Public because every
// program that shows a server's text needs them: the CLI, the look-alike server and embedders.

#include <cstddef>
#include <string>
#include <string_view>

namespace fxrates {

/// The length of the well-formed UTF-8 sequence at the start of `text` (RFC 3629: no overlong
/// forms, no surrogates, nothing above U+10FFFF), with its code point; 0 if it is not one.
std::size_t utf8_sequence(std::string_view text, char32_t& code_point) noexcept;

/// The length of the longest start of `text` of at most `most` bytes that does not end inside a
/// UTF-8 character: where to cut a long text for a message or a file name.
std::size_t utf8_prefix_length(std::string_view text, std::size_t most) noexcept;

/// `text` with every byte that does not start a well-formed sequence replaced by U+FFFD.
std::string valid_utf8(std::string_view text);

/// Whether `c` is a character that changes how text around it reads without being seen: C1
/// controls, zero-width characters and the byte order mark, line and paragraph separators, and
/// bidirectional marks, embeddings, overrides and isolates (U+202E shows "gnp.exe" as "exe.png").
bool is_invisible_control(char32_t c) noexcept;

/// Makes untrusted text (from a server, a client or a file) safe to print on one line of a
/// terminal; printable text, including non-ASCII letters, stays as it is. CR, LF, tab and other C0
/// controls, DEL, the invisible characters above, and bytes that are not
/// UTF-8 become escapes (`\r`, `\x01`, `\u202e`). `inside_quotes` also escapes backslashes and
/// double quotes, for text shown between double quotes; our own messages, whose server bytes the
/// library has already escaped, are shown without it, so that nothing is escaped twice.
std::string escape_untrusted(std::string_view text, bool inside_quotes = true);

} // namespace fxrates
