#pragma once

#include <string_view>

namespace fxrates::detail {

/// A field value or list element without the optional white space (spaces and tabs, RFC 9110
/// 5.6.3) at either end.
inline std::string_view without_ows(std::string_view text) noexcept
{
    auto blank = [](char c) { return c == ' ' || c == '\t'; };
    while (!text.empty() && blank(text.front()))
        text.remove_prefix(1);
    while (!text.empty() && blank(text.back()))
        text.remove_suffix(1);
    return text;
}

} // namespace fxrates::detail
