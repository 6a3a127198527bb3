#pragma once

// A server's bytes in a diagnostic: printable ASCII kept, every other byte escaped as \xNN, and
// cut at `shown` bytes, so that nothing a server sends can garble a terminal or flood a log.

#include <cstddef>
#include <string>
#include <string_view>

namespace fxrates::detail {

/// `text` between single quotes, escaped and cut short: 'HTTP/1.1 2\x01...'.
inline std::string quoted_server_text(std::string_view text, std::size_t shown = 80)
{
    std::string out = "'";
    for (char c : text.substr(0, shown))
    {
        auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte < 0x7f)
            out += c;
        else
        {
            constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[byte >> 4];
            out += hex[byte & 0xf];
        }
    }
    out += text.size() > shown ? "...'" : "'";
    return out;
}

} // namespace fxrates::detail
