#pragma once

// JSON strings in what the CLI prints (--format json, the --report lines, --field values): valid
// JSON that is also safe to show on a terminal, whatever a server put in the text.

#include <fxrates/utf8.hpp>

#include <string>
#include <string_view>

namespace fxrates::cli {

/// Appends `text` to `out` as a quoted JSON string. Bytes that are not UTF-8 become U+FFFD; quotes,
/// backslashes, C0 controls and DEL are escaped (`\n`, `\u007f`), and so are the characters that
/// change how a terminal shows text without being seen (C1 controls, bidi overrides, zero-width
/// characters: `\u202e`), so that a reader sees what the text is. Other characters stay as they are.
inline void append_json_string(std::string& out, std::string_view text)
{
    static constexpr char hex[] = "0123456789abcdef";
    auto escape = [&](char32_t c) {
        out.append({'\\', 'u', hex[(c >> 12) & 15], hex[(c >> 8) & 15], hex[(c >> 4) & 15], hex[c & 15]});
    };
    out += '"';
    while (!text.empty())
    {
        char32_t c = 0;
        std::size_t length = utf8_sequence(text, c);
        if (length == 0)
        {
            out += "\xEF\xBF\xBD"; // U+FFFD REPLACEMENT CHARACTER
            text.remove_prefix(1);
            continue;
        }
        switch (c)
        {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20 || c == 0x7F || is_invisible_control(c))
                escape(c);
            else
                out.append(text.substr(0, length));
        }
        text.remove_prefix(length);
    }
    out += '"';
}

} // namespace fxrates::cli
