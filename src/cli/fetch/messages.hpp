#pragma once

// Pieces of the fetch command's messages, which quote untrusted text (URLs, names, values): shared
// so that every message escapes it the same way.

#include <fxrates/utf8.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace fxrates::cli::fetch {

/// The longest piece of untrusted text a message repeats: a 60 kB name is not worth a screenful.
inline constexpr std::size_t max_quoted = 200;

/// `text` escaped so that it cannot drive the terminal; past `max_quoted` bytes cut (on a character
/// boundary) and marked "... (N bytes)".
inline std::string shown(std::string_view text, bool inside_quotes = false)
{
    if (text.size() <= max_quoted)
        return escape_untrusted(text, inside_quotes);
    return escape_untrusted(text.substr(0, utf8_prefix_length(text, max_quoted)), inside_quotes) + "... (" +
           std::to_string(text.size()) + " bytes)";
}

/// `text` between double quotes, as `shown`, so that it cannot end the quotes either.
inline std::string quoted(std::string_view text)
{
    return '"' + shown(text, true) + '"';
}

/// "line N: ", the start of every message about one input line.
inline std::string line_prefix(std::size_t line)
{
    return "line " + std::to_string(line) + ": ";
}

} // namespace fxrates::cli::fetch
