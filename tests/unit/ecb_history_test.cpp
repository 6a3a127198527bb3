#include <fxrates/currency.hpp>
#include <fxrates/server/decimal.hpp>
#include <fxrates/server/ecb_history.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace
{

namespace chrono = std::chrono;

constexpr chrono::sys_days day_of(int y, unsigned m, unsigned d)
{
    return chrono::sys_days{chrono::year{y} / chrono::month{m} / chrono::day{d}};
}

fxrates::currency_code code(std::string_view text)
{
    return fxrates::currency_code(text);
}

fxrates::decimal dec(std::string_view text)
{
    auto value = fxrates::decimal::parse(text);
    REQUIRE(value.has_value());
    return *value;
}

// Three business days, newest first, in the ECB's layout (trailing comma, N/A for no value).
// 2024-01-05 is a Friday; 2024-01-06/07 are the weekend.
constexpr std::string_view small_csv = "Date,USD,JPY,HRK,\n"
                                       "2024-01-08,1.0945,158.08,N/A,\n"
                                       "2024-01-05,1.0921,158.57,N/A,\n"
                                       "2024-01-04,1.0953,158.41,7.5345,\n";

// The ecb_history_error thrown by parsing `csv`; fails the test if none is thrown.
std::optional<fxrates::ecb_history_error> parse_error(std::string_view csv, std::string source = "test.csv")
{
    try
    {
        (void)fxrates::ecb_history::parse(csv, std::move(source));
    }
    catch (const fxrates::ecb_history_error& e)
    {
        return e;
    }
    FAIL_CHECK("no ecb_history_error for: ", std::string(csv));
    return std::nullopt;
}

// Expects parsing `csv` to fail at `line`, with what() starting "test.csv:<line>: " and mentioning `part`.
void check_error_at(std::string_view csv, std::size_t line, std::string_view part)
{
    INFO("csv: ", std::string(csv));
    auto error = parse_error(csv);
    REQUIRE(error.has_value());
    std::string what = error->what();
    INFO("what: ", what);
    CHECK(error->source() == "test.csv");
    CHECK(error->line() == line);
    CHECK(what.rfind("test.csv:" + std::to_string(line) + ": ", 0) == 0);
    CHECK(what.find(part) != std::string::npos);
}

} // namespace

TEST_CASE("parse reads the ECB layout with a trailing comma and N/A")
{
    auto history = fxrates::ecb_history::parse(small_csv, "small.csv");
    CHECK(history.size() == 3);
    REQUIRE(history.currencies().size() == 3);
    CHECK(history.currencies()[0] == code("USD"));
    CHECK(history.currencies()[1] == code("JPY"));
    CHECK(history.currencies()[2] == code("HRK"));
    CHECK(history.column_of(code("JPY")) == 1u);
    CHECK_FALSE(history.column_of(code("GBP")).has_value());

    auto day = history.on_or_before(day_of(2024, 1, 4));
    REQUIRE(day.has_value());
    CHECK(day->date() == day_of(2024, 1, 4));
    CHECK(day->rate(code("USD")) == dec("1.0953"));
    CHECK(day->rate(code("HRK")) == dec("7.5345"));
    CHECK(day->rate_at(1) == dec("158.41"));

    auto later = history.on_or_before(day_of(2024, 1, 8));
    REQUIRE(later.has_value());
    CHECK_FALSE(later->rate(code("HRK")).has_value());
    CHECK(later->rate(code("JPY")) == dec("158.08"));
}

TEST_CASE("parse keeps the exact decimal text of each rate")
{
    auto history = fxrates::ecb_history::parse("Date,IDR,USD,\n2026-04-13,20082.05,1.1684,\n", "t");
    auto day = history.latest();
    auto idr = day.rate(code("IDR"));
    REQUIRE(idr.has_value());
    CHECK(idr->units() == 2008205);
    CHECK(idr->scale() == 2);
    CHECK(idr->to_string() == "20082.05");
}

TEST_CASE("newest-first and ascending files give the same history")
{
    constexpr std::string_view ascending = "Date,USD,JPY,HRK,\n"
                                           "2024-01-04,1.0953,158.41,7.5345,\n"
                                           "2024-01-05,1.0921,158.57,N/A,\n"
                                           "2024-01-08,1.0945,158.08,N/A,\n";
    constexpr std::string_view shuffled = "Date,USD,JPY,HRK,\n"
                                          "2024-01-05,1.0921,158.57,N/A,\n"
                                          "2024-01-08,1.0945,158.08,N/A,\n"
                                          "2024-01-04,1.0953,158.41,7.5345,\n";
    auto newest_first = fxrates::ecb_history::parse(small_csv, "a");
    for (auto csv : {ascending, shuffled})
    {
        CAPTURE(csv);
        auto other = fxrates::ecb_history::parse(csv, "b");
        REQUIRE(other.size() == newest_first.size());
        CHECK(other.earliest().date() == day_of(2024, 1, 4));
        CHECK(other.latest().date() == day_of(2024, 1, 8));
        for (auto date : {day_of(2024, 1, 4), day_of(2024, 1, 5), day_of(2024, 1, 8)})
        {
            auto a = newest_first.on_or_before(date);
            auto b = other.on_or_before(date);
            REQUIRE(a.has_value());
            REQUIRE(b.has_value());
            CHECK(a->date() == b->date());
            for (std::size_t column = 0; column < 3; ++column)
                CHECK(a->rate_at(column) == b->rate_at(column));
        }
    }
    CHECK(newest_first.earliest().date() == day_of(2024, 1, 4));
    CHECK(newest_first.latest().date() == day_of(2024, 1, 8));
    CHECK(newest_first.latest().rate(code("USD")) == dec("1.0945"));
    CHECK(newest_first.earliest().rate(code("USD")) == dec("1.0953"));
}

TEST_CASE("parse accepts CRLF line ends, a header without trailing comma and blank lines")
{
    auto history = fxrates::ecb_history::parse("Date,USD,JPY\r\n2024-01-05,1.0921,158.57\r\n\r\n"
                                               "2024-01-04,1.0953,158.41\r\n",
                                               "crlf.csv");
    CHECK(history.size() == 2);
    REQUIRE(history.currencies().size() == 2);
    CHECK(history.latest().rate(code("JPY")) == dec("158.57"));
    CHECK(history.earliest().rate(code("JPY")) == dec("158.41"));

    auto no_final_newline = fxrates::ecb_history::parse("Date,USD,\n2024-01-05,1.0921,", "t");
    CHECK(no_final_newline.size() == 1);
    CHECK(no_final_newline.latest().rate(code("USD")) == dec("1.0921"));
}

TEST_CASE("on_or_before finds the exact day, the Friday before a weekend, or nothing before the first day")
{
    auto history = fxrates::ecb_history::parse(small_csv, "small.csv");

    auto exact = history.on_or_before(day_of(2024, 1, 5));
    REQUIRE(exact.has_value());
    CHECK(exact->date() == day_of(2024, 1, 5));

    for (auto weekend : {day_of(2024, 1, 6), day_of(2024, 1, 7)})
    {
        auto friday = history.on_or_before(weekend);
        REQUIRE(friday.has_value());
        CHECK(friday->date() == day_of(2024, 1, 5));
        CHECK(friday->rate(code("USD")) == dec("1.0921"));
    }

    CHECK_FALSE(history.on_or_before(day_of(2024, 1, 3)).has_value());
    CHECK_FALSE(history.on_or_before(day_of(1999, 1, 1)).has_value());

    auto future = history.on_or_before(day_of(2030, 1, 1));
    REQUIRE(future.has_value());
    CHECK(future->date() == day_of(2024, 1, 8));
    CHECK(future->date() == history.latest().date());
}

TEST_CASE("the rate of a currency missing from the file is empty")
{
    auto history = fxrates::ecb_history::parse(small_csv, "small.csv");
    CHECK_FALSE(history.latest().rate(code("GBP")).has_value());
    CHECK_FALSE(history.latest().rate(code("EUR")).has_value());
    CHECK_FALSE(history.latest().rate(fxrates::currency_code{}).has_value());
}

TEST_CASE("a bad header is an error at line 1")
{
    check_error_at("Day,USD,JPY,\n2024-01-05,1.0921,158.57,\n", 1, "header");
    check_error_at("Date,USD,usd,\n2024-01-05,1.0921,158.57,\n", 1, "'usd'");
    check_error_at("Date,USD,,JPY,\n2024-01-05,1.0921,158.57,\n", 1, "''");
    check_error_at("Date,USD,USD,\n2024-01-05,1.0921,158.57,\n", 1, "USD appears twice");
    check_error_at("Date,\n2024-01-05,\n", 1, "no currency");
    check_error_at("\n\nDate;USD;JPY\n2024-01-05;1.0921;158.57\n", 3, "header");
}

TEST_CASE("a bad date is an error at its line")
{
    check_error_at("Date,USD,\n2024-01-05,1.0921,\n05/01/2024,1.0921,\n", 3, "'05/01/2024'");
    check_error_at("Date,USD,\n2024-02-30,1.0921,\n", 2, "'2024-02-30'");
    check_error_at("Date,USD,\r\n2024-01-05,1.0921,\r\n2023-02-29,1.0921,\r\n", 3, "'2023-02-29'");
}

TEST_CASE("a row with too few or too many fields is an error at its line")
{
    check_error_at("Date,USD,JPY,\n2024-01-05,1.0921,158.57,\n2024-01-04,1.0953,\n", 3,
                   "expected 2 rates, found 1");
    check_error_at("Date,USD,JPY,\n2024-01-05,1.0921\n", 2, "expected 2 rates, found 1");
    check_error_at("Date,USD,JPY,\n2024-01-05\n", 2, "expected 2 rates, found 0");
    check_error_at("Date,USD,JPY,\n2024-01-05,1.0921,158.57,7.5,\n", 2, "more fields");
    check_error_at("Date,USD,JPY\n2024-01-05,1.0921,158.57,7.5\n", 2, "more fields");
}

TEST_CASE("a rate that is not a positive number is an error at its line")
{
    check_error_at("Date,USD,JPY,\n2024-01-05,1.0921,abc,\n", 2, "'abc'");
    check_error_at("Date,USD,JPY,\n2024-01-05,1.0921,158.57,\n2024-01-04,1e5,158.41,\n", 3, "'1e5'");
    check_error_at("Date,USD,JPY,\n2024-01-05,0,158.57,\n", 2, "'0'");
    check_error_at("Date,USD,JPY,\n2024-01-05,0.0000,158.57,\n", 2, "'0.0000'");
    check_error_at("Date,USD,JPY,\n2024-01-05,-1.09,158.57,\n", 2, "'-1.09'");
    check_error_at("Date,USD,JPY,\n2024-01-05,1.0921,n/a,\n", 2, "JPY");
}

TEST_CASE("a date that appears twice is an error naming the date")
{
    auto error = parse_error("Date,USD,\n2024-01-05,1.0921,\n2024-01-04,1.0953,\n2024-01-05,1.0922,\n");
    REQUIRE(error.has_value());
    std::string what = error->what();
    INFO("what: ", what);
    CHECK(error->source() == "test.csv");
    CHECK(what.rfind("test.csv:", 0) == 0);
    CHECK(what.find("2024-01-05") != std::string::npos);
    CHECK((error->line() == 0 || error->line() == 4));
}

TEST_CASE("an empty file and a header without rows are errors for the whole file")
{
    for (std::string_view csv : {"", "\n", "\r\n\r\n"})
    {
        CAPTURE(csv);
        auto error = parse_error(csv);
        REQUIRE(error.has_value());
        CHECK(error->line() == 0);
        CHECK(std::string(error->what()).rfind("test.csv: ", 0) == 0);
        CHECK(std::string(error->what()).find("empty") != std::string::npos);
    }
    auto header_only = parse_error("Date,USD,JPY,\n");
    REQUIRE(header_only.has_value());
    CHECK(header_only->line() == 0);
    CHECK(std::string(header_only->what()).rfind("test.csv: ", 0) == 0);
    CHECK(std::string(header_only->what()).find("no rates") != std::string::npos);
}

TEST_CASE("load_file of a missing path names the path")
{
    std::string path = FXRATES_TEST_DATA_DIR "/no-such-file.csv";
    try
    {
        (void)fxrates::ecb_history::load_file(path);
        FAIL_CHECK("load_file of a missing file did not throw");
    }
    catch (const fxrates::ecb_history_error& e)
    {
        CHECK(e.source() == path);
        CHECK(e.line() == 0);
        CHECK(std::string(e.what()).find(path) != std::string::npos);
    }
}

TEST_CASE("load_file reads the real ECB history")
{
    auto history = fxrates::ecb_history::load_file(FXRATES_TEST_DATA_DIR "/eurofxref-hist.csv");
    CHECK(history.size() == 6983);
    CHECK(history.currencies().size() == 41);
    CHECK(history.earliest().date() == day_of(1999, 1, 4));
    CHECK(history.latest().date() == day_of(2026, 4, 13));
    CHECK(history.latest().rate(code("USD")) == dec("1.1684"));
    CHECK(history.latest().rate(code("IDR")) == dec("20082.05"));
    CHECK(history.earliest().rate(code("USD")) == dec("1.1789"));
}

TEST_CASE("the embedded history holds the same data as the data file")
{
    auto file = fxrates::ecb_history::load_file(FXRATES_TEST_DATA_DIR "/eurofxref-hist.csv");
    auto embedded = fxrates::ecb_history::embedded();
    REQUIRE(embedded != nullptr);
    CHECK(embedded == fxrates::ecb_history::embedded());
    CHECK(embedded->size() == file.size());
    REQUIRE(embedded->currencies().size() == file.currencies().size());
    for (std::size_t i = 0; i < file.currencies().size(); ++i)
        CHECK(embedded->currencies()[i] == file.currencies()[i]);
    CHECK(embedded->earliest().date() == file.earliest().date());
    CHECK(embedded->latest().date() == file.latest().date());

    struct probe
    {
        chrono::sys_days date;
        std::string_view code;
        std::optional<std::string_view> rate;
    };
    for (const auto& p :
         {probe{day_of(2019, 4, 9), "USD", "1.1277"}, probe{day_of(2019, 4, 9), "JPY", "125.51"},
          probe{day_of(2019, 4, 9), "CZK", "25.618"}, probe{day_of(2018, 10, 12), "GBP", "0.8764"},
          probe{day_of(2010, 6, 1), "ISK", std::nullopt}, probe{day_of(2024, 1, 5), "HRK", std::nullopt},
          probe{day_of(2024, 1, 5), "USD", "1.0921"}, probe{day_of(1999, 1, 4), "CYP", "0.58231"},
          probe{day_of(2026, 4, 13), "IDR", "20082.05"}})
    {
        CAPTURE(p.code);
        CAPTURE(p.date.time_since_epoch().count());
        for (const fxrates::ecb_history* history :
             {static_cast<const fxrates::ecb_history*>(&file), embedded.get()})
        {
            auto day = history->on_or_before(p.date);
            REQUIRE(day.has_value());
            CHECK(day->date() == p.date);
            auto rate = day->rate(code(p.code));
            if (p.rate)
                CHECK(rate == dec(*p.rate));
            else
                CHECK_FALSE(rate.has_value());
        }
    }
}

TEST_CASE("a rate outside 0.0001-1e8 per EUR is an error at its line naming the range")
{
    check_error_at("Date,USD,JPY,\n2024-01-05,1.0921,158.57,\n2024-01-04,0.000000000000000001,158.41,\n", 3,
                   "outside the range served, 0.0001 to 100000000");
    check_error_at("Date,USD,JPY,\n2024-01-05,1.0921,999999999999999999,\n", 2, "outside the range served");
    check_error_at("Date,USD,\n2024-01-05,0.00009999,\n", 2, "'0.00009999'");
    check_error_at("Date,USD,\n2024-01-05,100000000.01,\n", 2, "'100000000.01'");
    // Both ends, 1e8 in a column that is never served (served ones are bounded by the next test).
    auto ends = fxrates::ecb_history::parse("Date,USD,TRL,\n2024-01-05,0.0001,100000000,\n", "test.csv");
    CHECK(ends.on_or_before(day_of(2024, 1, 5)).has_value());
}

TEST_CASE("a day whose served rates are so far apart that a cross rate would round to 0 is an error at its line")
{
    // Every value is inside 0.0001-1e8, but JPY-based USD would be 1e-12, served as 0.0 at 6 places.
    check_error_at("Date,USD,JPY,PLN,GBP,\n2019-04-09,0.0001,100000000.0,1.123456789012,99999999.99999999,\n", 2,
                   "the USD rate 0.0001 and the JPY rate 100000000.0 are too far apart");
    // EUR's 1 counts: EUR against JPY would be 1e-07.
    check_error_at("Date,USD,JPY,\n2024-01-05,1.0921,10000000,\n", 2, "EUR's 1 and the JPY rate 10000000.0");
    check_error_at("Date,USD,JPY,\n2024-01-05,0.0001,1,\n2024-01-04,0.0001,5000,\n", 3, "too far apart");
    // Exactly 0.0000005 rounds half to even, to 0: refused; just above it rounds to 0.000001.
    check_error_at("Date,USD,JPY,\n2024-01-05,0.5,1000000,\n", 2, "0 at the API's 6 decimal places");
    auto closest = fxrates::ecb_history::parse("Date,USD,JPY,\n2024-01-05,0.5,999999,\n", "test.csv");
    CHECK(closest.latest().rate(code("JPY")) == dec("999999"));
    // A column that is never served (TRL) is not rebased, so it may be far from the others.
    auto unserved = fxrates::ecb_history::parse("Date,USD,TRL,\n2024-01-05,1.09,90000000,\n", "test.csv");
    CHECK(unserved.latest().rate(code("TRL")) == dec("90000000"));
}
