#include <fxrates/utf8.hpp>

#include <cstdio>

namespace fxrates {

namespace {

// Code points that change how a terminal or viewer shows the rest of the line although they
// print nothing: C1 controls (U+009B is CSI on some terminals), Unicode line and paragraph
// separators, and the bidi marks, embeddings, overrides and isolates ("Trojan Source").

void append_hex_escape(std::string& out, const char* format, unsigned value)
{
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, format, value);
    out += buffer;
}

} // namespace

bool is_invisible_control(char32_t c) noexcept
{
    return (c >= 0x80 && c <= 0x9F) || c == 0x061C || (c >= 0x200B && c <= 0x200F) ||
           (c >= 0x2028 && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0xFEFF;
}

std::size_t utf8_prefix_length(std::string_view text, std::size_t most) noexcept
{
    if (text.size() <= most)
        return text.size();
    // The byte after the cut continues a character: the cut moves back to that character's start.
    std::size_t end = most;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
        --end;
    return end;
}

std::size_t utf8_sequence(std::string_view text, char32_t& code_point) noexcept
{
    auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    unsigned char lead = byte(0);
    if (lead < 0x80)
    {
        code_point = lead;
        return 1;
    }
    std::size_t length = 0;
    if (lead >= 0xC2 && lead <= 0xDF)
        length = 2;
    else if (lead >= 0xE0 && lead <= 0xEF)
        length = 3;
    else if (lead >= 0xF0 && lead <= 0xF4)
        length = 4;
    else
        return 0;
    // The second byte's range is narrower after four leads: it excludes overlong forms (E0, F0),
    // UTF-16 surrogates (ED) and values above U+10FFFF (F4).
    unsigned char low = lead == 0xE0 ? 0xA0 : lead == 0xF0 ? 0x90 : 0x80;
    unsigned char high = lead == 0xED ? 0x9F : lead == 0xF4 ? 0x8F : 0xBF;
    if (text.size() < length || byte(1) < low || byte(1) > high)
        return 0;
    for (std::size_t i = 2; i < length; ++i)
        if (byte(i) < 0x80 || byte(i) > 0xBF)
            return 0;
    code_point = lead & (0x7F >> length);
    for (std::size_t i = 1; i < length; ++i)
        code_point = (code_point << 6) | (byte(i) & 0x3F);
    return length;
}

std::string valid_utf8(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    while (!text.empty())
    {
        char32_t c = 0;
        std::size_t length = utf8_sequence(text, c);
        if (length == 0)
            out += "\xEF\xBF\xBD"; // U+FFFD REPLACEMENT CHARACTER
        else
            out.append(text.substr(0, length));
        text.remove_prefix(length == 0 ? 1 : length);
    }
    return out;
}


std::string escape_untrusted(std::string_view text, bool inside_quotes)
{
    std::string out;
    out.reserve(text.size());
    while (!text.empty())
    {
        char32_t c = 0;
        std::size_t length = utf8_sequence(text, c);
        if (length == 0)
            append_hex_escape(out, "\\x%02x", static_cast<unsigned char>(text[0]));
        else if (c == '\\' && inside_quotes)
            out += "\\\\";
        else if (c == '"' && inside_quotes)
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else if (c == '\r')
            out += "\\r";
        else if (c == '\t')
            out += "\\t";
        else if (c < 0x20 || c == 0x7F)
            append_hex_escape(out, "\\x%02x", static_cast<unsigned>(c));
        else if (is_invisible_control(c))
            append_hex_escape(out, "\\u%04x", static_cast<unsigned>(c));
        else
            out.append(text.substr(0, length));
        text.remove_prefix(length == 0 ? 1 : length);
    }
    return out;
}

} // namespace fxrates
