#pragma once

#include <fxrates/currency.hpp>

#include <array>
#include <optional>
#include <string_view>

namespace fxrates::detail {

/// A currency the look-alike server serves, with its ISO 4217 facts.
struct served_currency
{
    std::string_view code;
    std::string_view name;
    std::string_view numeric_code;
    int decimal_places;
};

/// The 33 codes of the API contract, in its order (EUR first, then the ECB's order).
inline constexpr std::array<served_currency, 33> served_currencies{{
    {"EUR", "Euro", "978", 2},
    {"USD", "US Dollar", "840", 2},
    {"JPY", "Japanese Yen", "392", 0},
    {"BGN", "Bulgarian Lev", "975", 2},
    {"CZK", "Czech Koruna", "203", 2},
    {"DKK", "Danish Krone", "208", 2},
    {"GBP", "Pound Sterling", "826", 2},
    {"HUF", "Hungarian Forint", "348", 2},
    {"PLN", "Polish Zloty", "985", 2},
    {"RON", "Romanian Leu", "946", 2},
    {"SEK", "Swedish Krona", "752", 2},
    {"CHF", "Swiss Franc", "756", 2},
    {"ISK", "Iceland Krona", "352", 0},
    {"NOK", "Norwegian Krone", "578", 2},
    {"HRK", "Croatian Kuna", "191", 2},
    {"RUB", "Russian Ruble", "643", 2},
    {"TRY", "Turkish Lira", "949", 2},
    {"AUD", "Australian Dollar", "036", 2},
    {"BRL", "Brazilian Real", "986", 2},
    {"CAD", "Canadian Dollar", "124", 2},
    {"CNY", "Chinese Yuan Renminbi", "156", 2},
    {"HKD", "Hong Kong Dollar", "344", 2},
    {"IDR", "Indonesian Rupiah", "360", 2},
    {"ILS", "Israeli New Shekel", "376", 2},
    {"INR", "Indian Rupee", "356", 2},
    {"KRW", "South Korean Won", "410", 0},
    {"MXN", "Mexican Peso", "484", 2},
    {"MYR", "Malaysian Ringgit", "458", 2},
    {"NZD", "New Zealand Dollar", "554", 2},
    {"PHP", "Philippine Peso", "608", 2},
    {"SGD", "Singapore Dollar", "702", 2},
    {"THB", "Thai Baht", "764", 2},
    {"ZAR", "South African Rand", "710", 2},
}};

/// The position of `code` in `served_currencies`, if the server serves it.
inline std::optional<std::size_t> served_index(std::string_view code) noexcept
{
    for (std::size_t i = 0; i < served_currencies.size(); ++i)
        if (served_currencies[i].code == code)
            return i;
    return std::nullopt;
}

} // namespace fxrates::detail
