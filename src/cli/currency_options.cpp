#include "cli/currency_options.hpp"

#include <iostream>

namespace fxrates::cli {

std::optional<std::vector<currency_code>> read_currency_codes(const std::vector<std::string>& texts,
                                                              const char* command, const char* option)
{
    std::vector<currency_code> codes;
    for (auto text : texts)
    {
        for (char& c : text)
            if (c >= 'a' && c <= 'z')
                c = static_cast<char>(c - 'a' + 'A');
        auto code = currency_code::parse(text);
        if (!code)
        {
            std::cerr << "fxrates " << command << ": " << option << ": " << describe_invalid_currency(text) << '\n';
            return std::nullopt;
        }
        codes.push_back(*code);
    }
    if (codes.empty())
    {
        std::cerr << "fxrates " << command << ": " << option << " needs at least one currency code, e.g. USD,EUR\n";
        return std::nullopt;
    }
    return codes;
}

} // namespace fxrates::cli
