#pragma once

// Pieces of the fetch command's messages, which quote untrusted text (URLs, names, values): shared
// so that every message escapes it the same way.

#include <fxrates/utf8.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace fxrates::cli::fetch {

/// `text` between double quotes, escaped so that it cannot drive the terminal or end the quotes.
inline std::string quoted(std::string_view text)
{
    return '"' + escape_untrusted(text) + '"';
}

/// "line N: ", the start of every message about one input line.
inline std::string line_prefix(std::size_t line)
{
    return "line " + std::to_string(line) + ": ";
}

} // namespace fxrates::cli::fetch
