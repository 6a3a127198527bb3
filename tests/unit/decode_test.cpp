#include <fxrates/decode.hpp>
#include <fxrates/diagnostics.hpp>
#include <fxrates/error.hpp>
#include <fxrates/rates.hpp>
#include <fxrates/rates_query.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <string_view>

namespace
{

namespace chrono = std::chrono;

fxrates::currency_code code(std::string_view text)
{
    return fxrates::currency_code(text);
}

// Decodes `body`, expecting failure; returns the client message, failing the test if it succeeded.
std::string rates_failure(std::string_view body)
{
    fxrates::rates out;
    fxrates::diagnostics diag;
    diag.set_server_message("left over");
    fxrates::error_code ec;
    CHECK_NOTHROW(ec = fxrates::decode_rates(body, out, diag));
    INFO("body: ", body);
    INFO("ec: ", ec.message());
    CHECK(ec == fxrates::errc::bad_response);
    CHECK(ec == fxrates::condition::bad_response);
    CHECK(diag.server_message().empty());
    CHECK_FALSE(diag.client_message().empty());
    return diag.client_message();
}

void check_rates_failure(std::string_view body, std::string_view expected_part)
{
    std::string message = rates_failure(body);
    INFO("body: ", body);
    INFO("message: ", message);
    CHECK(message.find(expected_part) != std::string::npos);
}

constexpr std::string_view contract_example =
    R"({"date":"2018-10-12","base":"USD","rates":{"EUR":0.864006,"JPY":112.312079,"GBP":0.757214}})";

} // namespace

TEST_CASE("decode_rates reads the contract's example")
{
    fxrates::rates out;
    fxrates::diagnostics diag;
    auto ec = fxrates::decode_rates(contract_example, out, diag);
    INFO(diag.client_message());
    REQUIRE_FALSE(ec);
    CHECK(out.date == chrono::year_month_day{chrono::year{2018}, chrono::October, chrono::day{12}});
    CHECK(out.base == code("USD"));
    REQUIRE(out.values.size() == 3);
    CHECK(out.values.at(code("EUR")) == 0.864006);
    CHECK(out.values.at(code("JPY")) == 112.312079);
    CHECK(out.values.at(code("GBP")) == 0.757214);
    CHECK(diag.client_message().empty());
}

TEST_CASE("decode_rates does not depend on key order")
{
    constexpr std::string_view shuffled =
        R"({"rates":{"GBP":0.757214,"EUR":0.864006,"JPY":112.312079},"base":"USD","date":"2018-10-12"})";
    fxrates::rates expected, out;
    fxrates::diagnostics diag;
    REQUIRE_FALSE(fxrates::decode_rates(contract_example, expected, diag));
    REQUIRE_FALSE(fxrates::decode_rates(shuffled, out, diag));
    CHECK(out == expected);
}

TEST_CASE("decode_rates accepts integers, decimals and exponents as numbers")
{
    constexpr std::string_view body =
        R"({"date":"2019-04-09","base":"USD","rates":)"
        R"({"USD":1,"EUR":0.886761,"ISK":5e-05,"JPY":1E2,"CZK":2.5e+1,"KRW":1.0}})";
    fxrates::rates out;
    fxrates::diagnostics diag;
    auto ec = fxrates::decode_rates(body, out, diag);
    INFO(diag.client_message());
    REQUIRE_FALSE(ec);
    REQUIRE(out.values.size() == 6);
    CHECK(out.values.at(code("USD")) == 1.0);
    CHECK(out.values.at(code("EUR")) == 0.886761);
    CHECK(out.values.at(code("ISK")) == 5e-05);
    CHECK(out.values.at(code("JPY")) == 100.0);
    CHECK(out.values.at(code("CZK")) == 25.0);
    CHECK(out.values.at(code("KRW")) == 1.0);
}

TEST_CASE("decode_rates ignores unknown keys")
{
    constexpr std::string_view body =
        R"({"success":true,"date":"2024-01-05","timestamp":1704412800,"base":"EUR","extra":{"a":[1,2]},)"
        R"("rates":{"USD":1.0921},"note":null})";
    fxrates::rates out;
    fxrates::diagnostics diag;
    auto ec = fxrates::decode_rates(body, out, diag);
    INFO(diag.client_message());
    REQUIRE_FALSE(ec);
    CHECK(out.base == code("EUR"));
    REQUIRE(out.values.size() == 1);
    CHECK(out.values.at(code("USD")) == 1.0921);
}

TEST_CASE("decode_rates reads only the top level's fields, and refuses a field or a rate given twice")
{
    // Fields of the same names nested in other values are not the answer's.
    constexpr std::string_view nested =
        R"({"meta":{"date":"1999-01-04","base":"JPY","rates":{"XXX":1}},"list":[{"rates":{"EUR":9}}],)"
        R"("date":"2024-01-05","base":"EUR","rates":{"USD":1.0921}})";
    fxrates::rates out;
    fxrates::diagnostics diag;
    REQUIRE_FALSE(fxrates::decode_rates(nested, out, diag));
    CHECK(out.date == chrono::year_month_day(chrono::year(2024), chrono::January, chrono::day(5)));
    CHECK(out.base == code("EUR"));
    REQUIRE(out.values.size() == 1);
    CHECK(out.values.at(code("USD")) == 1.0921);

    // Given twice, which one the server meant is a guess (a document keeps the last, other readers
    // the first), and a wrong guess prints wrong numbers: refused, whatever the values.
    check_rates_failure(R"({"date":"2024-01-04","base":"USD","rates":{"EUR":2},"rates":{"EUR":9}})",
                        "the field 'rates' twice");
    check_rates_failure(R"({"date":"2024-01-04","base":"USD","rates":{"EUR":2},"r\u0061tes":{"EUR":9}})",
                        "the field 'rates' twice");
    check_rates_failure(R"({"base":"GBP","date":"2024-01-04","base":"USD","rates":{}})", "the field 'base' twice");
    check_rates_failure(R"({"date":"2024-01-04","date":7,"base":"USD","rates":{}})", "the field 'date' twice");
    check_rates_failure(R"({"date":"2024-01-04","base":"USD","rates":{"EUR":-1,"GBP":1,"EUR":2}})",
                        "the rate for EUR is given twice");
    check_rates_failure(R"({"date":"2024-01-04","base":"USD","rates":{"EUR":2,"E\u0055R":2}})",
                        "the rate for EUR is given twice");
    // The first fault in the order of the rates.
    check_rates_failure(R"({"date":"2024-01-04","base":"USD","rates":{"GBP":1,"JPY":"x","GBP":1}})",
                        "the rate for GBP");
    check_rates_failure(R"({"date":"2024-01-04","base":"USD","rates":{"JPY":null,"euro":1}})", "the rate for JPY");
    check_rates_failure(R"({"date":"2024-01-04","base":"USD","rates":{"euro":1,"JPY":null}})", "'euro'");
}

TEST_CASE("decode_rates reads rates in any order into a sorted map, escaped keys and long strings too")
{
    std::string long_date = "2024-01-05";
    for (int i = 0; i < 5000; ++i)
        long_date += "\\n"; // escapes: the parser hands such a string over in parts
    fxrates::rates out;
    fxrates::diagnostics diag;
    REQUIRE_FALSE(fxrates::decode_rates(
        R"({"date":"2024-01-05","base":"U\u0053D","rates":{"ZAR":3,"E\u0055R":1,"JPY":2}})", out,
        diag));
    CHECK(out.base == code("USD"));
    REQUIRE(out.values.size() == 3);
    CHECK(out.values.begin()->first == code("EUR"));
    CHECK(out.values.at(code("EUR")) == 1);
    CHECK(out.values.rbegin()->first == code("ZAR"));
    // A string longer than the parser's buffer comes in parts: still read whole (and refused).
    check_rates_failure(R"({"date":")" + long_date + R"(","base":"USD","rates":{}})",
                        "not a YYYY-MM-DD date: '2024-01-05\n\n");
    // A number beyond a double's range is no rate.
    check_rates_failure(R"({"date":"2024-01-05","base":"USD","rates":{"EUR":1e400}})", "the rate for EUR");
}

TEST_CASE("decode_rates accepts empty rates")
{
    fxrates::rates out;
    out.values[code("GBP")] = 2.0; // must not survive a successful decode
    fxrates::diagnostics diag;
    auto ec = fxrates::decode_rates(R"({"date":"2024-01-05","base":"USD","rates":{}})", out, diag);
    INFO(diag.client_message());
    REQUIRE_FALSE(ec);
    CHECK(out.base == code("USD"));
    CHECK(out.values.empty());
}

TEST_CASE("decode_rates clears diagnostics left from an earlier failure on success")
{
    fxrates::rates out;
    fxrates::diagnostics diag;
    diag.set_client_message("old");
    diag.set_server_message("old");
    REQUIRE_FALSE(fxrates::decode_rates(contract_example, out, diag));
    CHECK(diag == fxrates::diagnostics{});
}

TEST_CASE("decode_rates reports a body that is not JSON as bad_response")
{
    check_rates_failure("not json", "not JSON");
    check_rates_failure("", "not JSON");
    check_rates_failure(R"({"date":"2018-10-12","base":"USD","rates":{"EUR":0.86)", "not JSON");
    check_rates_failure("<html><body><h1>502 Bad Gateway</h1></body></html>", "not JSON");
    check_rates_failure(R"({"date":"2018-10-12"} trailing)", "not JSON");
}

TEST_CASE("decode_rates says that a body nested too deep is not read, not that it is not JSON")
{
    const std::string deep = std::string(40, '[') + std::string(40, ']');
    check_rates_failure(R"({"date":"2019-04-09","base":"USD","rates":{"EUR":0.9},"x":)" + deep + "}",
                        "more than 32 levels deep");
}

TEST_CASE("decode_rates reports a top level that is not an object")
{
    check_rates_failure(R"([{"date":"2018-10-12","base":"USD","rates":{}}])", "not a JSON object");
    check_rates_failure(R"("2018-10-12")", "not a JSON object");
    check_rates_failure("null", "not a JSON object");
    check_rates_failure("42", "not a JSON object");
}

TEST_CASE("decode_rates reports a missing or malformed date field")
{
    check_rates_failure(R"({"base":"USD","rates":{}})", "'date'");
    check_rates_failure(R"({"date":20181012,"base":"USD","rates":{}})", "'date'");
    check_rates_failure(R"({"date":null,"base":"USD","rates":{}})", "'date'");
    check_rates_failure(R"({"date":"12/10/2018","base":"USD","rates":{}})", "'12/10/2018'");
    check_rates_failure(R"({"date":"2024-02-30","base":"USD","rates":{}})", "'2024-02-30'");
}

TEST_CASE("decode_rates reports a missing or malformed base field")
{
    check_rates_failure(R"({"date":"2018-10-12","rates":{}})", "'base'");
    check_rates_failure(R"({"date":"2018-10-12","base":1,"rates":{}})", "'base'");
    check_rates_failure(R"({"date":"2018-10-12","base":"usd","rates":{}})", "'usd'");
    check_rates_failure(R"({"date":"2018-10-12","base":"DOLLAR","rates":{}})", "'DOLLAR'");
}

TEST_CASE("decode_rates reports missing rates and rates that are not an object")
{
    check_rates_failure(R"({"date":"2018-10-12","base":"USD"})", "'rates' is missing");
    check_rates_failure(R"({"date":"2018-10-12","base":"USD","rates":"EUR=0.86"})",
                        "'rates' is not an object");
    check_rates_failure(R"({"date":"2018-10-12","base":"USD","rates":[0.86]})", "'rates' is not an object");
    check_rates_failure(R"({"date":"2018-10-12","base":"USD","rates":null})", "'rates' is not an object");
}

TEST_CASE("decode_rates reports a rates key that is not a currency code")
{
    check_rates_failure(R"({"date":"2018-10-12","base":"USD","rates":{"EUR":0.86,"euro":1.1}})", "'euro'");
    check_rates_failure(R"({"date":"2018-10-12","base":"USD","rates":{"":1.1}})", "''");
}

TEST_CASE("decode_rates reports a rate that is not a positive number")
{
    for (std::string_view rate : {R"("0.86")", "-0.86", "0", "0.0", "null", "true", "[1]", "{}"})
    {
        CAPTURE(rate);
        std::string body =
            R"({"date":"2018-10-12","base":"USD","rates":{"USD":1.0,"EUR":)" + std::string(rate) + "}}";
        check_rates_failure(body, "EUR");
        check_rates_failure(body, "not a positive number");
    }
}

TEST_CASE("decode_currencies reads a contract-shaped body in order")
{
    constexpr std::string_view body =
        R"({"EUR":{"name":"Euro","symbol":"EUR","numeric_code":"978","decimal_places":2},)"
        R"("USD":{"name":"US Dollar","symbol":"USD","numeric_code":"840","decimal_places":2},)"
        R"("JPY":{"name":"Japanese Yen","symbol":"JPY","numeric_code":"392","decimal_places":0,"extra":1}})";
    fxrates::currency_list out;
    fxrates::diagnostics diag;
    auto ec = fxrates::decode_currencies(body, out, diag);
    INFO(diag.client_message());
    REQUIRE_FALSE(ec);
    REQUIRE(out.size() == 3);
    CHECK(out[0] == fxrates::currency_info{code("EUR"), "Euro", "EUR", "978", 2});
    CHECK(out[1] == fxrates::currency_info{code("USD"), "US Dollar", "USD", "840", 2});
    CHECK(out[2] == fxrates::currency_info{code("JPY"), "Japanese Yen", "JPY", "392", 0});
}

TEST_CASE("decode_currencies needs only a name per entry")
{
    fxrates::currency_list out;
    fxrates::diagnostics diag;
    auto ec = fxrates::decode_currencies(R"({"QQQ":{"name":"Test"}})", out, diag);
    REQUIRE_FALSE(ec);
    REQUIRE(out.size() == 1);
    CHECK(out[0].code == code("QQQ"));
    CHECK(out[0].name == "Test");
    CHECK(out[0].symbol.empty());
    CHECK(out[0].decimal_places == 2);
}

TEST_CASE("decode_currencies reports bad bodies as bad_response with a reason")
{
    struct bad
    {
        std::string_view body;
        std::string_view reason;
    };
    for (const auto& e :
         {bad{"<html></html>", "not JSON"}, bad{"[]", "not a JSON object"},
          bad{R"({"usd":{"name":"US Dollar"}})", "'usd'"},
          bad{R"({"USD":"US Dollar"})", "USD is not an object"}, bad{R"({"USD":{"symbol":"USD"}})", "'name'"},
          bad{R"({"USD":{"name":"US Dollar","decimal_places":"2"}})", "'decimal_places'"},
          bad{R"({"USD":{"name":"US Dollar","decimal_places":-1}})", "'decimal_places'"}})
    {
        CAPTURE(e.body);
        fxrates::currency_list out;
        fxrates::diagnostics diag;
        fxrates::error_code ec;
        CHECK_NOTHROW(ec = fxrates::decode_currencies(e.body, out, diag));
        CHECK(ec == fxrates::errc::bad_response);
        CHECK(ec == fxrates::condition::bad_response);
        INFO("message: ", diag.client_message());
        CHECK(diag.client_message().find(e.reason) != std::string::npos);
    }
}

TEST_CASE("extract_error_message reads detail, error and message")
{
    CHECK(fxrates::extract_error_message(R"({"detail":"Base currency 'XYZ' is not supported."})") ==
          "Base currency 'XYZ' is not supported.");
    CHECK(fxrates::extract_error_message(R"({"error":"Rate limit exceeded"})") == "Rate limit exceeded");
    CHECK(fxrates::extract_error_message(R"({"message":"Internal error"})") == "Internal error");
    CHECK(fxrates::extract_error_message(
              R"({"detail":"Rate limit exceeded. Try again in 1 seconds.","retry_after":1})") ==
          "Rate limit exceeded. Try again in 1 seconds.");
}

TEST_CASE("extract_error_message prefers detail over error over message")
{
    CHECK(fxrates::extract_error_message(R"({"message":"m","error":"e","detail":"d"})") == "d");
    CHECK(fxrates::extract_error_message(R"({"message":"m","error":"e"})") == "e");
    CHECK(fxrates::extract_error_message(R"({"detail":5,"message":"m"})") == "m");
}

TEST_CASE("extract_error_message reads the msg of a FastAPI validation error list")
{
    CHECK(
        fxrates::extract_error_message(
            R"({"detail":[{"loc":["query","base"],"msg":"field required","type":"value_error.missing"}]})") ==
        "field required");
    CHECK(fxrates::extract_error_message(R"({"detail":[{"loc":["query","base"],"msg":"field required"},)"
                                         R"({"loc":["query","date"],"msg":"invalid date format"}]})") ==
          "field required; invalid date format");
}

TEST_CASE("extract_error_message reads a nested error object")
{
    CHECK(fxrates::extract_error_message(R"({"error":{"code":429,"message":"Too many requests"}})") ==
          "Too many requests");
    CHECK(fxrates::extract_error_message(R"({"detail":{"msg":"nested"}})") == "nested");
}

TEST_CASE("extract_error_message is empty for bodies that are not API errors")
{
    CHECK(fxrates::extract_error_message("<html><body>502 Bad Gateway</body></html>").empty());
    CHECK(fxrates::extract_error_message("").empty());
    CHECK(fxrates::extract_error_message(R"(["detail"])").empty());
    CHECK(fxrates::extract_error_message(R"({"date":"2018-10-12"})").empty());
    CHECK(fxrates::extract_error_message(R"({"detail":)").empty());
}

TEST_CASE("extract_error_message clips long text to 512 bytes")
{
    std::string long_text(3000, 'x');
    CHECK(fxrates::extract_error_message(R"({"detail":")" + long_text + R"("})") == std::string(512, 'x'));

    std::string list = R"({"detail":[)";
    for (int i = 0; i < 40; ++i)
        list += std::string(i ? "," : "") + R"({"msg":")" + std::string(100, 'y') + R"("})";
    list += "]}";
    auto joined = fxrates::extract_error_message(list);
    CHECK(joined.size() == 512);
    CHECK(joined.rfind(std::string(100, 'y') + "; ", 0) == 0);
}

TEST_CASE("check_rates_answer refuses another base or a later day, and drops codes not asked for")
{
    using fxrates::currency_code;
    fxrates::rates answer;
    answer.base = currency_code("USD");
    answer.date = std::chrono::year{2019} / 4 / 9;
    answer.values = {{currency_code("EUR"), 0.886761}, {currency_code("GBP"), 0.76}, {currency_code("JPY"), 111.3}};
    fxrates::rates_query query;
    query.date = std::chrono::year{2019} / 4 / 9;
    query.symbols = {currency_code("JPY"), currency_code("EUR")};
    fxrates::diagnostics diag;

    auto other_base = answer;
    CHECK(fxrates::check_rates_answer(other_base, currency_code("EUR"), query, diag) == fxrates::errc::bad_response);
    CHECK(diag.client_message() == "the answer is for base USD, not EUR (a server or cache that ignores the query?)");

    auto later = answer;
    later.date = std::chrono::year{2019} / 4 / 10;
    CHECK(fxrates::check_rates_answer(later, currency_code("USD"), query, diag) == fxrates::errc::bad_response);
    CHECK(diag.client_message().find("2019-04-10, later than the day asked for, 2019-04-09") != std::string::npos);

    auto earlier = answer; // a weekend or holiday asked for: the business day before
    earlier.date = std::chrono::year{2019} / 4 / 5;
    CHECK_FALSE(fxrates::check_rates_answer(earlier, currency_code("USD"), query, diag));

    CHECK_FALSE(fxrates::check_rates_answer(answer, currency_code("USD"), query, diag));
    REQUIRE(answer.values.size() == 2);
    CHECK(answer.values.at(currency_code("EUR")) == 0.886761);
    CHECK(answer.values.at(currency_code("JPY")) == 111.3);
    CHECK(answer.values.count(currency_code("GBP")) == 0);
}
