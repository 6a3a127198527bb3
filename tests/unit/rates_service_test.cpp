#include "server/rates_service.hpp"

#include <fxrates/decode.hpp>
#include <fxrates/diagnostics.hpp>
#include <fxrates/rates.hpp>
#include <fxrates/server/ecb_history.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace
{

namespace chrono = std::chrono;

// A fixed "today" after the last day of the data (2026-04-13); never the wall clock.
constexpr chrono::sys_days fixed_today{chrono::year{2026} / 11 / 22};

const fxrates::detail::rates_service& service()
{
    static const fxrates::detail::rates_service instance(fxrates::ecb_history::embedded());
    return instance;
}

fxrates::detail::api_response get(std::string_view target, chrono::sys_days today = fixed_today)
{
    return service().handle("GET", target, today);
}

fxrates::currency_code code(std::string_view text)
{
    return fxrates::currency_code(text);
}

// Decodes a 200 answer with the client's decoder.
fxrates::rates decoded(const fxrates::detail::api_response& response)
{
    INFO("body: ", response.body);
    REQUIRE(response.status == 200);
    fxrates::rates out;
    fxrates::diagnostics diag;
    auto ec = fxrates::decode_rates(response.body, out, diag);
    INFO("decode: ", diag.client_message());
    REQUIRE_FALSE(ec);
    return out;
}

constexpr chrono::year_month_day ymd(int y, unsigned m, unsigned d)
{
    return chrono::year_month_day{chrono::year{y}, chrono::month{m}, chrono::day{d}};
}

// True if `text` is well-formed UTF-8 (no stray continuation bytes, overlongs or surrogates).
bool is_utf8(std::string_view text)
{
    std::size_t i = 0;
    while (i < text.size())
    {
        auto byte = static_cast<unsigned char>(text[i]);
        std::size_t length = byte < 0x80           ? 1
                             : (byte >> 5) == 0x6  ? 2
                             : (byte >> 4) == 0xe  ? 3
                             : (byte >> 3) == 0x1e ? 4
                                                   : 0;
        if (length == 0 || i + length > text.size())
            return false;
        char32_t point = length == 1 ? byte : byte & (0x7f >> length);
        for (std::size_t k = 1; k < length; ++k)
        {
            auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xc0) != 0x80)
                return false;
            point = (point << 6) | (next & 0x3f);
        }
        constexpr char32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
        if (point < smallest[length] || point > 0x10ffff || (point >= 0xd800 && point <= 0xdfff))
            return false;
        i += length;
    }
    return true;
}

void check_error(std::string_view target, unsigned status, std::string_view body)
{
    CAPTURE(target);
    auto response = get(target);
    CHECK(response.status == status);
    CHECK(response.body == body);
}

} // namespace

TEST_CASE("an unsupported base is a 400 naming the base as given")
{
    check_error("/rates?base=XYZ", 400, R"({"detail":"Base currency 'XYZ' is not supported."})");
    check_error("/rates?base=usd", 400, R"({"detail":"Base currency 'usd' is not supported."})");
    check_error("/rates?base=", 400, R"({"detail":"Base currency '' is not supported."})");
    check_error("/rates?base=CYP&date=2005-01-03", 400,
                R"({"detail":"Base currency 'CYP' is not supported."})");
    check_error("/rates?base=USD%20", 400, R"({"detail":"Base currency 'USD ' is not supported."})");
}

TEST_CASE("an unsupported symbol is a 400 naming the symbol")
{
    check_error("/rates?symbols=XYZ", 400, R"({"detail":"Currency 'XYZ' is not supported."})");
    check_error("/rates?symbols=USD,XYZ,GBP", 400, R"({"detail":"Currency 'XYZ' is not supported."})");
    check_error("/rates?symbols=usd", 400, R"({"detail":"Currency 'usd' is not supported."})");
}

TEST_CASE("symbols are not trimmed: a space or an empty element is an unsupported symbol")
{
    check_error("/rates?symbols=USD,%20GBP", 400, R"({"detail":"Currency ' GBP' is not supported."})");
    check_error("/rates?symbols=USD,+GBP", 400, R"({"detail":"Currency ' GBP' is not supported."})");
    check_error("/rates?symbols=USD,", 400, R"({"detail":"Currency '' is not supported."})");
    check_error("/rates?symbols=,USD", 400, R"({"detail":"Currency '' is not supported."})");
    check_error("/rates?symbols=USD,,GBP", 400, R"({"detail":"Currency '' is not supported."})");
}

TEST_CASE("a date that is not YYYY-MM-DD is a 400 format error")
{
    check_error("/rates?date=abc", 400,
                R"({"detail":"Invalid date format: 'abc'. Expected format: YYYY-MM-DD"})");
    check_error("/rates?date=2024-2-05", 400,
                R"({"detail":"Invalid date format: '2024-2-05'. Expected format: YYYY-MM-DD"})");
    check_error("/rates?date=20240205", 400,
                R"({"detail":"Invalid date format: '20240205'. Expected format: YYYY-MM-DD"})");
}

TEST_CASE("a date that is not a calendar date is a 400 invalid date error")
{
    check_error("/rates?date=2024-02-30", 400,
                R"({"detail":"Invalid date: '2024-02-30'. Expected a valid date in YYYY-MM-DD format."})");
    check_error("/rates?date=2023-02-29", 400,
                R"({"detail":"Invalid date: '2023-02-29'. Expected a valid date in YYYY-MM-DD format."})");
    check_error("/rates?date=2024-13-01", 400,
                R"({"detail":"Invalid date: '2024-13-01'. Expected a valid date in YYYY-MM-DD format."})");
}

TEST_CASE("a base with no value on the day served is a 400")
{
    check_error("/rates?base=HRK&date=2024-01-05", 400,
                R"({"detail":"Base currency 'HRK' not available in current rates data"})");
    check_error("/rates?base=ISK&date=2010-06-01", 400,
                R"({"detail":"Base currency 'ISK' not available in current rates data"})");
    check_error("/rates?base=RUB", 400,
                R"({"detail":"Base currency 'RUB' not available in current rates data"})");
}

TEST_CASE("a date before the first ECB day is a 404")
{
    check_error("/rates?date=1998-12-31", 404,
                R"({"detail":"No rate data available for the specified date."})");
    check_error("/rates?date=1999-01-03", 404,
                R"({"detail":"No rate data available for the specified date."})");
    check_error("/rates?base=USD&date=1900-01-01", 404,
                R"({"detail":"No rate data available for the specified date."})");
    CHECK(get("/rates?date=1999-01-04").status == 200);
}

TEST_CASE("validation goes base, then symbols, then date")
{
    check_error("/rates?base=XYZ&date=abc", 400, R"({"detail":"Base currency 'XYZ' is not supported."})");
    check_error("/rates?date=abc&base=XYZ", 400, R"({"detail":"Base currency 'XYZ' is not supported."})");
    check_error("/rates?base=XYZ&symbols=QQQ", 400, R"({"detail":"Base currency 'XYZ' is not supported."})");
    check_error("/rates?symbols=QQQ&date=abc", 400, R"({"detail":"Currency 'QQQ' is not supported."})");
    check_error("/rates?date=2024-02-30&symbols=QQQ", 400,
                R"({"detail":"Currency 'QQQ' is not supported."})");
    check_error("/rates?base=HRK&date=abc", 400,
                R"({"detail":"Invalid date format: 'abc'. Expected format: YYYY-MM-DD"})");
    check_error("/rates?base=HRK&date=1998-12-31", 404,
                R"({"detail":"No rate data available for the specified date."})");
}

TEST_CASE("the 2019-04-09 USD example has 33 rates rebased to 6 places")
{
    auto response = get("/rates?base=USD&date=2019-04-09");
    auto rates = decoded(response);
    CHECK(rates.date == ymd(2019, 4, 9));
    CHECK(rates.base == code("USD"));
    CHECK(rates.values.size() == 33);
    CHECK(rates.values.at(code("EUR")) == 0.886761);
    CHECK(rates.values.at(code("USD")) == 1.0);
    CHECK(rates.values.at(code("JPY")) == 111.297331);
    CHECK(rates.values.at(code("CZK")) == 22.717035);
    CHECK(rates.values.at(code("NOK")) == 8.529751);
    CHECK(rates.values.at(code("PLN")) == 3.801543);

    // Every value, computed with Python's decimal module (ROUND_HALF_EVEN) and written with repr(float).
    CHECK(
        response.body ==
        R"({"date":"2019-04-09","base":"USD","rates":{"EUR":0.886761,"USD":1.0,"JPY":111.297331,"BGN":1.734327,)"
        R"("CZK":22.717035,"DKK":6.619668,"GBP":0.765585,"HUF":285.093553,"PLN":3.801543,"RON":4.221868,)"
        R"("SEK":9.24448,"CHF":0.999379,"ISK":118.648577,"NOK":8.529751,"HRK":6.592356,"RUB":64.7361,)"
        R"("TRY":5.680234,"AUD":1.399397,"BRL":3.854837,"CAD":1.328722,"CNY":6.711714,"HKD":7.842511,)"
        R"("IDR":14132.996364,"ILS":3.577725,"INR":69.334043,"KRW":1139.451982,"MXN":18.930478,"MYR":4.098608,)"
        R"("NZD":1.482486,"PHP":52.036889,"SGD":1.352753,"THB":31.749579,"ZAR":14.029884}})");
}

TEST_CASE("a weekend date answers the Friday before, filtered by symbols")
{
    auto response = get("/rates?base=USD&symbols=EUR,GBP,JPY&date=2018-10-13");
    CHECK(response.status == 200);
    CHECK(response.body ==
          R"({"date":"2018-10-12","base":"USD","rates":{"EUR":0.864006,"JPY":112.312079,"GBP":0.757214}})");
}

TEST_CASE("a future date answers the latest day with 200")
{
    auto rates = decoded(get("/rates?date=2030-01-01"));
    CHECK(rates.date == ymd(2026, 4, 13));
    auto next_day = decoded(get("/rates?date=2026-04-14"));
    CHECK(next_day.date == ymd(2026, 4, 13));
}

TEST_CASE("without a date the service answers for the given today")
{
    auto latest = decoded(get("/rates"));
    CHECK(latest.date == ymd(2026, 4, 13));
    CHECK(latest.base == code("EUR"));

    auto saturday = decoded(get("/rates?base=USD", chrono::sys_days{ymd(2018, 10, 13)}));
    CHECK(saturday.date == ymd(2018, 10, 12));
    CHECK(saturday.values.at(code("EUR")) == 0.864006);
}

TEST_CASE("with base EUR the ECB values are passed through unrounded")
{
    auto response = get("/rates?date=2026-04-13");
    CHECK(response.status == 200);
    CHECK(
        response.body ==
        R"({"date":"2026-04-13","base":"EUR","rates":{"EUR":1.0,"USD":1.1684,"JPY":186.75,"CZK":24.378,)"
        R"("DKK":7.4727,"GBP":0.87058,"HUF":366.9,"PLN":4.2543,"RON":5.092,"SEK":10.892,"CHF":0.9242,)"
        R"("ISK":143.2,"NOK":11.098,"TRY":52.2478,"AUD":1.661,"BRL":5.874,"CAD":1.6177,"CNY":7.9827,)"
        R"("HKD":9.1507,"IDR":20082.05,"ILS":3.5787,"INR":109.047,"KRW":1740.86,"MXN":20.3203,"MYR":4.6444,)"
        R"("NZD":2.0081,"PHP":70.356,"SGD":1.4912,"THB":37.728,"ZAR":19.3849}})");

    auto explicit_base = get("/rates?base=EUR&date=2026-04-13");
    CHECK(explicit_base.body == response.body);
    CHECK(decoded(response).values.at(code("IDR")) == 20082.05);
}

TEST_CASE("historic ECB currencies that are not served never appear")
{
    auto rates = decoded(get("/rates?date=1999-01-04"));
    CHECK(rates.values.count(code("CYP")) == 0);
    CHECK(rates.values.count(code("DEM")) == 0);
    CHECK(rates.values.count(code("EEK")) == 0);
    CHECK(rates.values.count(code("USD")) == 1);
    for (const auto& [currency, value] : rates.values)
    {
        CAPTURE(currency.str());
        CHECK(value > 0);
    }
}

TEST_CASE("a symbol with no value that day is left out, possibly leaving no rates")
{
    auto response = get("/rates?base=USD&symbols=HRK&date=2024-01-05");
    CHECK(response.status == 200);
    CHECK(response.body == R"({"date":"2024-01-05","base":"USD","rates":{}})");

    auto some = get("/rates?base=USD&symbols=HRK,GBP&date=2024-01-05");
    CHECK(some.status == 200);
    CHECK(some.body == R"({"date":"2024-01-05","base":"USD","rates":{"GBP":0.789397}})");

    auto rates = decoded(get("/rates?base=USD&date=2024-01-05"));
    CHECK(rates.values.count(code("HRK")) == 0);
    CHECK(rates.values.size() == 31);
}

TEST_CASE("the base rebases to exactly 1.0 and EUR to its reciprocal")
{
    auto response = get("/rates?base=GBP&symbols=GBP,EUR,USD&date=2024-01-05");
    CHECK(response.status == 200);
    CHECK(response.body ==
          R"({"date":"2024-01-05","base":"GBP","rates":{"EUR":1.159958,"USD":1.26679,"GBP":1.0}})");
}

TEST_CASE("percent-encoded query parameters are decoded")
{
    auto encoded = get("/rates?base=%55SD&date=2019-04-09");
    auto plain = get("/rates?base=USD&date=2019-04-09");
    CHECK(encoded.status == 200);
    CHECK(encoded.body == plain.body);

    auto symbols = get("/rates?base=USD&symbols=EUR%2CGBP%2CJPY&date=2018%2D10%2D13");
    CHECK(symbols.status == 200);
    CHECK(symbols.body ==
          R"({"date":"2018-10-12","base":"USD","rates":{"EUR":0.864006,"JPY":112.312079,"GBP":0.757214}})");

    CHECK(get("/rates?%62ase=USD&date=2019-04-09").body == plain.body);
}

TEST_CASE("unknown query parameters are ignored")
{
    auto response = get("/rates?base=USD&date=2019-04-09&foo=bar&callback=x");
    CHECK(response.status == 200);
    CHECK(response.body == get("/rates?base=USD&date=2019-04-09").body);
}

TEST_CASE("an error answer is valid JSON even when the query holds bytes that are not UTF-8")
{
    // The real service decodes the query as UTF-8 with replacement, so its answer is always JSON.
    for (std::string_view target : {"/rates?base=%FF", "/rates?symbols=%C3", "/rates?date=%80%80%80"})
    {
        auto response = get(target);
        CAPTURE(response.body);
        CHECK(response.status == 400);
        CHECK(is_utf8(response.body));
        CHECK_FALSE(fxrates::extract_error_message(response.body).empty());
    }
}

TEST_CASE("an echoed value that is valid UTF-8 is passed through")
{
    auto response = get("/rates?base=%E2%82%AC");
    CHECK(response.status == 400);
    CHECK(response.body == "{\"detail\":\"Base currency '\xe2\x82\xac' is not supported.\"}");
    CHECK(is_utf8(response.body));
    CHECK(fxrates::extract_error_message(response.body) == "Base currency '\xe2\x82\xac' is not supported.");
}

TEST_CASE("control characters in an echoed value are escaped in the JSON answer")
{
    auto response = get("/rates?base=%22%0A%5C");
    CHECK(response.status == 400);
    CHECK(response.body == R"({"detail":"Base currency '\"\n\\' is not supported."})");
    CHECK(fxrates::extract_error_message(response.body) == "Base currency '\"\n\\' is not supported.");
}

TEST_CASE("an unknown path is a 404 Not Found")
{
    for (std::string_view target :
         {"/", "/rate", "/rates/extra", "/currencies/USD", "/RATES", "/latest?base=USD"})
    {
        CAPTURE(target);
        auto response = get(target);
        CHECK(response.status == 404);
        CHECK(response.body == R"({"detail":"Not Found"})");
    }
    CHECK(service().handle("POST", "/nowhere", fixed_today).status == 404);
}

TEST_CASE("a method other than GET or HEAD is a 405 that lists the allowed methods")
{
    for (std::string_view method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
    {
        CAPTURE(method);
        for (std::string_view target : {"/rates", "/rates?base=USD", "/currencies"})
        {
            CAPTURE(target);
            auto response = service().handle(method, target, fixed_today);
            CHECK(response.status == 405);
            CHECK(response.body == R"({"detail":"Method Not Allowed"})");
            CHECK(response.allow == "GET, HEAD");
        }
    }
}

TEST_CASE("HEAD is answered like GET")
{
    for (std::string_view target :
         {"/rates?base=USD&date=2019-04-09", "/rates?base=XYZ", "/rates?date=1998-12-31", "/currencies"})
    {
        CAPTURE(target);
        auto head = service().handle("HEAD", target, fixed_today);
        auto get_response = get(target);
        CHECK(head.status == get_response.status);
        CHECK(head.body == get_response.body);
        CHECK(head.allow.empty());
    }
}

TEST_CASE("the answers of GET are not 405 and carry no allow list")
{
    auto response = get("/rates");
    CHECK(response.status == 200);
    CHECK(response.allow.empty());
}

TEST_CASE("currencies lists the 33 served codes in contract order")
{
    auto response = get("/currencies");
    CHECK(response.status == 200);
    fxrates::currency_list list;
    fxrates::diagnostics diag;
    auto ec = fxrates::decode_currencies(response.body, list, diag);
    INFO("decode: ", diag.client_message());
    REQUIRE_FALSE(ec);
    REQUIRE(list.size() == 33);

    std::string order;
    for (const auto& info : list)
    {
        if (!order.empty())
            order += ' ';
        order += info.code.str();
        CHECK(info.symbol == info.code.str());
        CHECK_FALSE(info.name.empty());
        CHECK(info.numeric_code.size() == 3);
    }
    CHECK(order ==
          "EUR USD JPY BGN CZK DKK GBP HUF PLN RON SEK CHF ISK NOK HRK RUB TRY AUD BRL CAD CNY HKD IDR "
          "ILS INR KRW MXN MYR NZD PHP SGD THB ZAR");

    CHECK(list[1] == fxrates::currency_info{code("USD"), "US Dollar", "USD", "840", 2});
    CHECK(list[0].name == "Euro");
    CHECK(list[0].numeric_code == "978");
    CHECK(list[2].decimal_places == 0); // JPY
}

TEST_CASE("currencies ignores a query string")
{
    CHECK(get("/currencies?base=XYZ").body == get("/currencies").body);
}

TEST_CASE("detail_body escapes the text as a JSON string")
{
    CHECK(fxrates::detail::detail_body("Not Found") == R"({"detail":"Not Found"})");
    CHECK(fxrates::detail::detail_body("a \"quoted\" \\ text\t") == R"({"detail":"a \"quoted\" \\ text\t"})");
}

TEST_CASE("no served rate is 0: the rates furthest apart that a data file may hold still rebase to a positive rate")
{
    // USD / JPY = 5.000005e-07, the smallest quotient the loader accepts; it rounds up to 0.000001.
    auto history = std::make_shared<const fxrates::ecb_history>(
        fxrates::ecb_history::parse("Date,USD,JPY,\n2024-01-05,0.5,999999,\n", "edge.csv"));
    fxrates::detail::rates_service edge(history);
    auto response = edge.handle("GET", "/rates?base=JPY&date=2024-01-05", fixed_today);
    REQUIRE(response.status == 200);
    CHECK(response.body.find("\"USD\":1e-06") != std::string::npos);
    CHECK(response.body.find(":0.0") == std::string::npos);
    auto rates = decoded(response); // the client's decoder refuses a rate that is not positive
    CHECK(rates.values.at(code("USD")) > 0);
    CHECK(rates.values.at(code("EUR")) > 0);
}
