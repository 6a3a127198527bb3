#include "cli/currency_options.hpp"

#include "cli/input_checks.hpp"
#include "cli/output.hpp"

namespace fxrates::cli {

std::optional<std::vector<currency_code>> read_currency_codes(const std::vector<std::string>& texts,
                                                              std::string_view command, std::string_view option)
{
    std::vector<currency_code> codes;
    for (const auto& list : texts)
    {
        std::string why;
        auto items = split_list(list, why);
        if (!items)
        {
            report(command, std::string(option) + ": " + why);
            return std::nullopt;
        }
        for (const auto& typed : *items)
        {
            std::string text = typed;
            for (char& c : text)
                if (c >= 'a' && c <= 'z')
                    c = static_cast<char>(c - 'a' + 'A');
            auto code = currency_code::parse(text);
            if (!code)
            {
                // The value as typed, and the rule as the command line applies it (any case).
                report(command, std::string(option) + ": '" + typed +
                                    "' is not a currency code: expected three letters A-Z (any case), such as USD");
                return std::nullopt;
            }
            codes.push_back(*code);
        }
    }
    if (codes.empty())
    {
        report(command, std::string(option) + " needs at least one currency code, e.g. USD,EUR");
        return std::nullopt;
    }
    return codes;
}

} // namespace fxrates::cli
