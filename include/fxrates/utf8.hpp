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

/// `text` with every byte that does not start a well-formed sequence replaced by U+FFFD.
std::string valid_utf8(std::string_view text);

} // namespace fxrates
