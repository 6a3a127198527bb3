#pragma once

// Case-insensitive ASCII, as HTTP compares field names, tokens and codings: never locale-aware
// (std::tolower depends on the C locale).

#include <algorithm>
#include <string_view>

namespace fxrates::detail {

constexpr char ascii_lower(char c) noexcept
{
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr bool iequals(std::string_view a, std::string_view b) noexcept
{
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

} // namespace fxrates::detail
