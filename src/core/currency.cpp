#include <fxrates/currency.hpp>

#include <string>

namespace fxrates {

std::string describe_invalid_currency(std::string_view text)
{
    // Show control characters escaped: the text may come from a command line or a server.
    std::string shown;
    for (unsigned char c : text.substr(0, 32))
    {
        if (c >= 0x20 && c < 0x7f)
            shown += static_cast<char>(c);
        else
        {
            constexpr char hex[] = "0123456789abcdef";
            shown += "\\x";
            shown += hex[c >> 4];
            shown += hex[c & 0xf];
        }
    }
    if (text.size() > 32)
        shown += "...";
    std::string message = "'" + shown + "' is not a currency code: expected three upper-case letters A-Z, such as USD";
    bool all_letters = text.size() == 3;
    for (char c : text)
        all_letters = all_letters && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
    if (all_letters)
    {
        std::string upper(text);
        for (char& c : upper)
            if (c >= 'a' && c <= 'z')
                c = static_cast<char>(c - 'a' + 'A');
        message += " (did you mean " + upper + "?)";
    }
    return message;
}

} // namespace fxrates
