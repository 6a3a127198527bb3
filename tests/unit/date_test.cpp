#include <fxrates/date.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <string_view>

namespace
{

namespace chrono = std::chrono;

constexpr chrono::year_month_day ymd(int y, unsigned m, unsigned d)
{
    return chrono::year_month_day{chrono::year{y}, chrono::month{m}, chrono::day{d}};
}

} // namespace

TEST_CASE("a strict YYYY-MM-DD text parses into its fields")
{
    auto fields = fxrates::parse_iso_date_fields("2024-02-05");
    REQUIRE(fields.has_value());
    CHECK(*fields == ymd(2024, 2, 5));

    auto date = fxrates::parse_iso_date("2019-04-09");
    REQUIRE(date.has_value());
    CHECK(*date == ymd(2019, 4, 9));

    CHECK(fxrates::parse_iso_date("1999-01-04") == ymd(1999, 1, 4));
    CHECK(fxrates::parse_iso_date("2026-12-31") == ymd(2026, 12, 31));
}

TEST_CASE("texts that are not strictly YYYY-MM-DD are rejected by the fields parse")
{
    using namespace std::string_view_literals;
    for (std::string_view text :
         {"2024-2-05"sv, "2024-02-5"sv, "20240205"sv, "2024-02-05 "sv, " 2024-02-05"sv, "abc"sv, ""sv,
          "2024/02/05"sv, "2024-02-05T00:00"sv, "24-02-05"sv, "02024-02-05"sv, "2024-0a-05"sv, "+024-02-05"sv,
          "-024-02-05"sv, "2024-+2-05"sv, "2024-02-+5"sv, "2024--2-05"sv, "2024-02-05\0"sv,
          "２０２４-02-05"sv})
    {
        CAPTURE(text);
        CHECK_FALSE(fxrates::parse_iso_date_fields(text).has_value());
        CHECK_FALSE(fxrates::parse_iso_date(text).has_value());
    }
}

TEST_CASE("a well-formed text that is not a calendar date has fields but is not ok")
{
    auto fields = fxrates::parse_iso_date_fields("2024-02-30");
    REQUIRE(fields.has_value());
    CHECK(fields->year() == chrono::year{2024});
    CHECK(fields->month() == chrono::February);
    CHECK(fields->day() == chrono::day{30});
    CHECK_FALSE(fields->ok());
    CHECK_FALSE(fxrates::parse_iso_date("2024-02-30").has_value());

    for (std::string_view text :
         {"2024-13-01", "2024-00-10", "2024-01-00", "2024-04-31", "2024-01-32", "2024-99-99"})
    {
        CAPTURE(text);
        auto parsed = fxrates::parse_iso_date_fields(text);
        REQUIRE(parsed.has_value());
        CHECK_FALSE(parsed->ok());
        CHECK_FALSE(fxrates::parse_iso_date(text).has_value());
    }
}

TEST_CASE("February 29th exists only in leap years")
{
    CHECK(fxrates::parse_iso_date("2024-02-29") == ymd(2024, 2, 29));
    CHECK_FALSE(fxrates::parse_iso_date("2023-02-29").has_value());
    CHECK(fxrates::parse_iso_date("2000-02-29") == ymd(2000, 2, 29));
    CHECK_FALSE(fxrates::parse_iso_date("1900-02-29").has_value());
    CHECK_FALSE(fxrates::parse_iso_date("2100-02-29").has_value());
    CHECK(fxrates::parse_iso_date("2023-02-28") == ymd(2023, 2, 28));
}

TEST_CASE("to_iso_string pads every field with zeros")
{
    CHECK(fxrates::to_iso_string(ymd(2024, 2, 5)) == "2024-02-05");
    CHECK(fxrates::to_iso_string(ymd(1999, 1, 4)) == "1999-01-04");
    CHECK(fxrates::to_iso_string(ymd(2026, 12, 31)) == "2026-12-31");
    CHECK(fxrates::to_iso_string(ymd(987, 6, 7)) == "0987-06-07");
    CHECK(fxrates::to_iso_string(ymd(5, 10, 1)) == "0005-10-01");
}

TEST_CASE("to_iso_string and parse_iso_date round trip")
{
    for (std::string_view text :
         {"1999-01-04", "2000-02-29", "2018-10-12", "2019-04-09", "2026-04-13", "0001-01-01", "9999-12-31"})
    {
        CAPTURE(text);
        auto date = fxrates::parse_iso_date(text);
        REQUIRE(date.has_value());
        CHECK(fxrates::to_iso_string(*date) == text);
    }

    // Every day of a leap year and the next survives the round trip.
    for (auto day = chrono::sys_days{ymd(2024, 1, 1)}; day < chrono::sys_days{ymd(2026, 1, 1)};
         day += chrono::days{1})
    {
        chrono::year_month_day date{day};
        auto text = fxrates::to_iso_string(date);
        REQUIRE(fxrates::parse_iso_date(text) == date);
    }
}
