#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fxrates {

/// An exact decimal number `units * 10^-scale`, as the ECB publishes rates (`1.1684`, `20082.05`).
///
/// Rebasing is done in this type rather than in binary floating point, so that results round
/// exactly as the API's decimal arithmetic does.
class decimal
{
public:
    constexpr decimal() noexcept = default;
    constexpr decimal(std::int64_t units, int scale) noexcept : units_(units), scale_(scale) {}

    /// Parses a plain decimal such as `1.1684`, `-3`, `0.00005` (no exponent, at most 18 digits).
    static std::optional<decimal> parse(std::string_view text) noexcept;

    constexpr std::int64_t units() const noexcept { return units_; }
    constexpr int scale() const noexcept { return scale_; }

    /// The nearest double.
    double to_double() const noexcept;

    /// The shortest text that reads back as the same number, written the way Python writes a
    /// float: `1.0`, `0.886761`, `13168.0`, `5e-05`, `1.5e+16` (fixed notation for decimal
    /// exponents from -4 to 15).
    std::string to_string() const;

    friend std::strong_ordering operator<=>(const decimal& a, const decimal& b) noexcept;
    friend bool operator==(const decimal& a, const decimal& b) noexcept { return (a <=> b) == 0; }

private:
    std::int64_t units_ = 0;
    int scale_ = 0;
};

/// `dividend / divisor` rounded to `places` decimal places, half to even.
///
/// Throws `std::domain_error` if `divisor` is zero, `std::invalid_argument` if `places` is not in
/// [0, 18], and `std::overflow_error` if the quotient times 10^places does not fit in 64 bits.
decimal divide(decimal dividend, decimal divisor, int places);

} // namespace fxrates
