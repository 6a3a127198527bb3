#include <fxrates/server/decimal.hpp>

#include <charconv>
#include <cstdlib>
#include <limits>
#include <stdexcept>

namespace fxrates {

namespace {

// Products of two 18-digit operands need 128 bits; GCC and Clang provide them on every 64-bit target.
__extension__ using int128 = __int128;

constexpr int max_digits = 18;

constexpr int128 pow10(int exponent)
{
    int128 result = 1;
    for (int i = 0; i < exponent; ++i)
        result *= 10;
    return result;
}

} // namespace

std::optional<decimal> decimal::parse(std::string_view text) noexcept
{
    bool negative = false;
    if (!text.empty() && (text.front() == '-' || text.front() == '+'))
    {
        negative = text.front() == '-';
        text.remove_prefix(1);
    }
    std::int64_t units = 0;
    int scale = 0, digits = 0;
    bool seen_point = false, seen_digit = false;
    for (char c : text)
    {
        if (c == '.' && !seen_point)
        {
            seen_point = true;
            continue;
        }
        if (c < '0' || c > '9')
            return std::nullopt;
        seen_digit = true;
        if (units != 0 || c != '0')
            ++digits;
        if (digits > max_digits)
            return std::nullopt;
        units = units * 10 + (c - '0');
        if (seen_point && ++scale > max_digits)
            return std::nullopt; // keeps every comparison and division within 128 bits
    }
    if (!seen_digit)
        return std::nullopt;
    return decimal{negative ? -units : units, scale};
}

double decimal::to_double() const noexcept
{
    // Via text, so that the result is the correctly rounded nearest double for any scale.
    std::string text = to_string();
    double value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    return value;
}

std::string decimal::to_string() const
{
    std::int64_t units = units_;
    int scale = scale_;
    if (units == 0)
        return "0.0";
    while (units % 10 == 0)
    {
        units /= 10;
        --scale;
    }
    std::string digits = std::to_string(units < 0 ? -units : units);
    std::string result = units < 0 ? "-" : "";
    int count = static_cast<int>(digits.size());
    int exponent = count - 1 - scale; // decimal exponent of the leading digit

    if (exponent < -4 || exponent >= 16)
    {
        result += digits[0];
        if (count > 1)
        {
            result += '.';
            result.append(digits, 1);
        }
        char tail[16];
        std::snprintf(tail, sizeof tail, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
        return result + tail;
    }
    if (exponent < 0)
        return result + "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
    if (scale <= 0)
        return result + digits + std::string(static_cast<std::size_t>(-scale), '0') + ".0";
    return result + digits.substr(0, static_cast<std::size_t>(count - scale)) + "." +
           digits.substr(static_cast<std::size_t>(count - scale));
}

std::strong_ordering operator<=>(const decimal& a, const decimal& b) noexcept
{
    // Bring both to the larger scale; 18 digits times 10^18 still fits in 128 bits.
    int scale = a.scale_ > b.scale_ ? a.scale_ : b.scale_;
    int128 left = int128{a.units_} * pow10(scale - a.scale_);
    int128 right = int128{b.units_} * pow10(scale - b.scale_);
    return left <=> right;
}

decimal divide(decimal dividend, decimal divisor, int places)
{
    if (divisor.units() == 0)
        throw std::domain_error("decimal division by zero");
    if (places < 0 || places > max_digits)
        throw std::invalid_argument("decimal division to " + std::to_string(places) +
                                    " places; 0 to 18 are supported");
    // dividend / divisor * 10^places = (a * 10^(places + sb)) / (b * 10^sa), with both powers >= 0
    // after moving the difference to whichever side keeps it non-negative. The power can reach
    // 10^54 (18 places, scales 18 and -18 apart) and the product of 18 digits by it does not
    // always fit in 128 bits: such a quotient is refused, never wrapped.
    int shift = places + divisor.scale() - dividend.scale();
    int128 numerator = dividend.units();
    int128 denominator = divisor.units();
    int exponent = shift >= 0 ? shift : -shift;
    int128& scaled = shift >= 0 ? numerator : denominator;
    for (int i = 0; i < exponent; ++i)
        if (__builtin_mul_overflow(scaled, int128{10}, &scaled))
            throw std::overflow_error("decimal division " + dividend.to_string() + " / " + divisor.to_string() +
                                      " is out of range (the quotient's units must fit in 64 bits)");
    if (denominator < 0)
    {
        numerator = -numerator;
        denominator = -denominator;
    }
    int128 quotient = numerator / denominator;
    int128 remainder = numerator % denominator;
    if (remainder < 0)
        remainder = -remainder;
    // Half to even: round away from zero above one half, and at exactly one half when odd.
    int128 twice = remainder * 2;
    if (twice > denominator || (twice == denominator && quotient % 2 != 0))
        quotient += numerator < 0 ? -1 : 1;
    if (quotient > std::numeric_limits<std::int64_t>::max() || quotient < -std::numeric_limits<std::int64_t>::max())
        throw std::overflow_error("decimal division " + dividend.to_string() + " / " + divisor.to_string() +
                                  " is out of range (the quotient's units must fit in 64 bits)");
    return decimal{static_cast<std::int64_t>(quotient), places};
}

} // namespace fxrates
