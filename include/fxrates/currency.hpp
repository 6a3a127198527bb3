#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace fxrates {

/// The message for a string that is not a currency code, e.g. `'usd' is not a currency code:
/// expected three upper-case letters A-Z, such as USD`.
std::string describe_invalid_currency(std::string_view text);

/// An ISO 4217 style currency code: exactly three letters A-Z, such as `USD`.
///
/// Only the form is checked, not membership of a list: a currency the API adds later still works
/// on the client side. (The look-alike server checks membership of the codes it serves.)
class currency_code
{
public:
    /// Parses `text`; throws `std::invalid_argument` naming the bad input if it is not three
    /// upper-case letters A-Z.
    explicit currency_code(std::string_view text) : currency_code(checked(text))
    {
    }

    /// `XXX`, ISO 4217's code for "no currency", so that value types holding a code are regular.
    constexpr currency_code() noexcept = default;

    /// Parses `text` without throwing; empty if it is not three upper-case letters A-Z.
    static std::optional<currency_code> parse(std::string_view text) noexcept
    {
        if (!is_valid(text))
            return std::nullopt;
        return currency_code(raw_tag{}, text);
    }

    /// True if `text` is three upper-case letters A-Z.
    static constexpr bool is_valid(std::string_view text) noexcept
    {
        if (text.size() != 3)
            return false;
        for (char c : text)
            if (c < 'A' || c > 'Z')
                return false;
        return true;
    }

    std::string_view view() const noexcept { return {letters_.data(), letters_.size()}; }
    std::string str() const { return std::string(view()); }

    friend bool operator==(const currency_code&, const currency_code&) = default;
    friend auto operator<=>(const currency_code&, const currency_code&) = default;

private:
    struct raw_tag
    {
    };
    currency_code(raw_tag, std::string_view text) noexcept : letters_{text[0], text[1], text[2]} {}

    static currency_code checked(std::string_view text)
    {
        if (auto code = parse(text))
            return *code;
        throw std::invalid_argument(describe_invalid_currency(text));
    }

    std::array<char, 3> letters_{'X', 'X', 'X'};
};

} // namespace fxrates

template <>
struct std::hash<fxrates::currency_code>
{
    std::size_t operator()(const fxrates::currency_code& code) const noexcept
    {
        return std::hash<std::string_view>{}(code.view());
    }
};
