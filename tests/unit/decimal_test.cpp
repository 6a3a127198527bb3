#include <fxrates/server/decimal.hpp>
#include <fxrates/server/rebase.hpp>

#include <doctest/doctest.h>

#include <compare>
#include <cstdint>
#include <string>
#include <stdexcept>
#include <string_view>

namespace
{

// Parses `text`, failing the test if it does not parse.
fxrates::decimal dec(std::string_view text)
{
    auto value = fxrates::decimal::parse(text);
    INFO("text: ", text);
    REQUIRE(value.has_value());
    return *value;
}

// `dividend / divisor` at `places` decimal places, as text.
std::string quotient(std::string_view dividend, std::string_view divisor, int places)
{
    return fxrates::divide(dec(dividend), dec(divisor), places).to_string();
}

} // namespace

TEST_CASE("parse reads plain decimals into units and scale")
{
    struct expected
    {
        std::string_view text;
        std::int64_t units;
        int scale;
    };
    for (const auto& e :
         {expected{"1.1684", 11684, 4}, expected{"20082.05", 2008205, 2}, expected{"372816", 372816, 0},
          expected{"0.00005", 5, 5}, expected{"-3", -3, 0}, expected{"+2", 2, 0}, expected{"-0.5", -5, 1},
          expected{"0", 0, 0}, expected{"1.10", 110, 2}})
    {
        CAPTURE(e.text);
        auto value = fxrates::decimal::parse(e.text);
        REQUIRE(value.has_value());
        CHECK(value->units() == e.units);
        CHECK(value->scale() == e.scale);
    }
}

TEST_CASE("parse accepts leading zeros without counting them as digits")
{
    auto value = fxrates::decimal::parse("007.50");
    REQUIRE(value.has_value());
    CHECK(*value == fxrates::decimal(75, 1));

    // Twenty leading zeros plus 18 significant digits still fit.
    auto long_value = fxrates::decimal::parse("00000000000000000000123456789012345678");
    REQUIRE(long_value.has_value());
    CHECK(long_value->units() == 123456789012345678);

    auto small = fxrates::decimal::parse("0.000000000000000001");
    REQUIRE(small.has_value());
    CHECK(small->units() == 1);
    CHECK(small->scale() == 18);
}

TEST_CASE("parse accepts 18 significant digits and rejects 19")
{
    auto eighteen = fxrates::decimal::parse("123456789012345678");
    REQUIRE(eighteen.has_value());
    CHECK(eighteen->units() == 123456789012345678);

    auto eighteen_fraction = fxrates::decimal::parse("-1234567.89012345678");
    REQUIRE(eighteen_fraction.has_value());
    CHECK(eighteen_fraction->units() == -123456789012345678);
    CHECK(eighteen_fraction->scale() == 11);

    CHECK(fxrates::decimal::parse("999999999999999999").has_value());
    CHECK_FALSE(fxrates::decimal::parse("1234567890123456789").has_value());
    CHECK_FALSE(fxrates::decimal::parse("9999999999999999999").has_value());
    CHECK_FALSE(fxrates::decimal::parse("1.234567890123456789").has_value());
    CHECK_FALSE(fxrates::decimal::parse("99999999999999999999999").has_value());
}

TEST_CASE("parse rejects text that is not a plain decimal")
{
    for (std::string_view text : {"1.2.3", "", ".", "1e5", "1E5", "N/A", "-", "+", "--1", "+-1", " 1", "1 ",
                                  "1,5", "0x10", "inf", "nan", "1..2", "abc", "1-"})
    {
        CAPTURE(text);
        CHECK_FALSE(fxrates::decimal::parse(text).has_value());
    }
}

TEST_CASE("to_string writes numbers the way Python's repr(float) does")
{
    struct expected
    {
        std::string_view text;
        std::string_view repr;
    };
    // Expectations from Python 3: repr(float(text)).
    for (const auto& e : {expected{"1", "1.0"},
                          expected{"0.886761", "0.886761"},
                          expected{"13168", "13168.0"},
                          expected{"0.00005", "5e-05"},
                          expected{"0.000015", "1.5e-05"},
                          expected{"0.0001", "0.0001"},
                          expected{"123.4500", "123.45"},
                          expected{"0", "0.0"},
                          expected{"0.000000", "0.0"},
                          expected{"1.000000", "1.0"},
                          expected{"111.297331", "111.297331"},
                          expected{"20082.05", "20082.05"},
                          expected{"-2.5", "-2.5"},
                          expected{"-0.00005", "-5e-05"},
                          expected{"0.00012", "0.00012"},
                          expected{"1000000000000000", "1000000000000000.0"},
                          expected{"10000000000000000", "1e+16"},
                          expected{"15000000000000000", "1.5e+16"},
                          expected{"1234567.891", "1234567.891"},
                          expected{"10.0", "10.0"}})
    {
        CAPTURE(e.text);
        CHECK(dec(e.text).to_string() == e.repr);
    }
}

TEST_CASE("to_string handles a negative scale")
{
    CHECK(fxrates::decimal(1, -16).to_string() == "1e+16");
    CHECK(fxrates::decimal(13168, 0).to_string() == "13168.0");
    CHECK(fxrates::decimal(13168, -1).to_string() == "131680.0");
    CHECK(fxrates::decimal(5, 5).to_string() == "5e-05");
    CHECK(fxrates::decimal().to_string() == "0.0");
}

TEST_CASE("to_double gives the nearest double")
{
    CHECK(dec("1.1684").to_double() == 1.1684);
    CHECK(dec("0.00005").to_double() == 5e-05);
    CHECK(dec("20082.05").to_double() == 20082.05);
    CHECK(dec("-3").to_double() == -3.0);
    CHECK(dec("0").to_double() == 0.0);
    CHECK(fxrates::decimal(1, -16).to_double() == 1e16);
    CHECK(dec("0.886761").to_double() == 0.886761);
}

TEST_CASE("decimals compare by value across scales")
{
    CHECK(dec("1.10") == dec("1.1"));
    CHECK(dec("1.000000") == dec("1"));
    CHECK(dec("1.100000") != dec("1"));
    CHECK(dec("0.9") < dec("1"));
    CHECK(dec("1") > dec("0.9"));
    CHECK(dec("0.00005") < dec("0.0001"));
    CHECK(dec("-1") < dec("-0.9"));
    CHECK(dec("-0.5") < dec("0"));
    CHECK(dec("0.000") == dec("0"));
    CHECK(dec("1.1684") != dec("1.1685"));
    CHECK((dec("20082.05") <=> dec("20082.050")) == std::strong_ordering::equal);
    CHECK((dec("123456789012345678") <=> dec("0.000000000000000001")) == std::strong_ordering::greater);
    CHECK(fxrates::decimal(1, -16) == dec("10000000000000000"));
}

TEST_CASE("decimals with far apart scales still compare by value")
{
    // More than 18 places after the point is refused, so that every comparison and division
    // stays within 128 bits; at the limits comparisons are still exact.
    CHECK_FALSE(fxrates::decimal::parse("0.000000000000000000000001").has_value());
    auto big = dec("123456789012345678");
    auto tiny = dec("0.000000000000000001");
    CHECK(tiny.scale() == 18);
    CHECK(big > tiny);
    CHECK(tiny < big);
    CHECK(dec("-123456789012345678") < tiny);
    CHECK(dec("999999999999999999") > dec("0.999999999999999999"));
}

TEST_CASE("divide rounds to the requested places, half to even")
{
    // Not a tie: below one half rounds down, above rounds up.
    CHECK(quotient("0.0000125", "1", 5) == "1e-05");
    CHECK(quotient("0.12500001", "1", 2) == "0.13");
    CHECK(quotient("2", "3", 6) == "0.666667");
    CHECK(quotient("1", "3", 6) == "0.333333");

    // Exact ties go to the even neighbour, up or down.
    CHECK(quotient("0.0000125", "1", 6) == "1.2e-05");
    CHECK(quotient("0.0000135", "1", 6) == "1.4e-05");
    CHECK(quotient("0.000015", "1", 5) == "2e-05");
    CHECK(quotient("0.000025", "1", 5) == "2e-05");
    CHECK(quotient("1", "8", 2) == "0.12");
    CHECK(quotient("3", "8", 2) == "0.38");
    CHECK(quotient("5", "2", 0) == "2.0");
    CHECK(quotient("7", "2", 0) == "4.0");
    CHECK(quotient("0.0000005", "1", 6) == "0.0");
    CHECK(quotient("0.0000015", "1", 6) == "2e-06");
}

TEST_CASE("divide rounds negative quotients half to even, symmetrically")
{
    CHECK(quotient("-0.000015", "1", 5) == "-2e-05");
    CHECK(quotient("-0.000025", "1", 5) == "-2e-05");
    CHECK(quotient("-3", "8", 2) == "-0.38");
    CHECK(quotient("1", "-8", 2) == "-0.12");
    CHECK(quotient("-3", "-8", 2) == "0.38");
    CHECK(quotient("-2", "3", 6) == "-0.666667");
    CHECK(quotient("-5", "2", 0) == "-2.0");
    CHECK(quotient("-0.0000015", "1", 6) == "-2e-06");
}

TEST_CASE("divide returns a decimal at exactly the requested scale")
{
    auto third = fxrates::divide(dec("1"), dec("3"), 6);
    CHECK(third.units() == 333333);
    CHECK(third.scale() == 6);

    auto big = fxrates::divide(dec("1"), dec("0.0001"), 6);
    CHECK(big.units() == 10000000000);
    CHECK(big.scale() == 6);
    CHECK(big.to_string() == "10000.0");

    CHECK(quotient("100", "0.25", 6) == "400.0");
    CHECK(quotient("20082.05", "0.86335", 6) == "23260.612729");
}

TEST_CASE("rebase_rate reproduces the API's values for 2019-04-09 with base USD")
{
    // ECB 2019-04-09: USD 1.1277, JPY 125.51, CZK 25.618 per EUR (data/eurofxref-hist.csv).
    auto usd = dec("1.1277");
    CHECK(fxrates::rebase_rate(fxrates::decimal{1, 0}, usd).to_string() == "0.886761");
    CHECK(fxrates::rebase_rate(dec("125.51"), usd).to_string() == "111.297331");
    CHECK(fxrates::rebase_rate(dec("25.618"), usd).to_string() == "22.717035");
    CHECK(fxrates::rebase_rate(dec("9.619"), usd).to_string() == "8.529751");
    CHECK(fxrates::rebase_rate(dec("4.287"), usd).to_string() == "3.801543");
    CHECK(fxrates::rebase_rate(dec("0.86335"), usd).to_string() == "0.765585");
}

TEST_CASE("rebase_rate reproduces the API's values for 2018-10-12 with base USD")
{
    // ECB 2018-10-12: USD 1.1574, GBP 0.8764, JPY 129.99 per EUR.
    auto usd = dec("1.1574");
    CHECK(fxrates::rebase_rate(fxrates::decimal{1, 0}, usd).to_string() == "0.864006");
    CHECK(fxrates::rebase_rate(dec("0.8764"), usd).to_string() == "0.757214");
    CHECK(fxrates::rebase_rate(dec("129.99"), usd).to_string() == "112.312079");
}

TEST_CASE("rebase_rate of the base against itself is exactly one")
{
    for (std::string_view rate : {"1.1277", "125.51", "20082.05", "0.86335", "1"})
    {
        CAPTURE(rate);
        auto value = fxrates::rebase_rate(dec(rate), dec(rate));
        CHECK(value == fxrates::decimal(1, 0));
        CHECK(value.to_string() == "1.0");
        CHECK(value.scale() == fxrates::rebased_rate_places);
    }
}

TEST_CASE("divide refuses a quotient past 18 digits instead of wrapping it")
{
    // The extremes of an 18-digit decimal: 10^18 / 10^-18 at 6 places would need 42 digits.
    CHECK_THROWS_AS(fxrates::divide(dec("999999999999999999"), dec("0.000000000000000001"), 6), std::overflow_error);
    CHECK_THROWS_AS(fxrates::divide(dec("-999999999999999999"), dec("0.000000000000000001"), 6),
                    std::overflow_error);
    // Fits 128 bits on the way, but the quotient's 10^19 units do not fit 64 bits.
    CHECK_THROWS_AS(fxrates::divide(dec("10000000000000"), dec("1"), 6), std::overflow_error);
    CHECK_THROWS_AS(fxrates::divide(dec("1"), dec("0"), 6), std::domain_error);
    CHECK_THROWS_AS(fxrates::divide(dec("1"), dec("2"), 19), std::invalid_argument);
}

TEST_CASE("divide is exact at the ends of the served ECB range, 0.0001 to 1e8 per EUR")
{
    CHECK(quotient("100000000", "0.0001", 6) == "1000000000000.0"); // 10^18 units
    CHECK(quotient("0.0001", "100000000", 6) == "0.0");
    CHECK(quotient("99999999.999999999", "0.0001", 6) == "999999999999.99999");
    CHECK(quotient("999999999999.999999", "1", 6) == "999999999999.999999");
    CHECK(quotient("0.000000000000000001", "0.000000000000000003", 18) == "0.333333333333333333");
}
