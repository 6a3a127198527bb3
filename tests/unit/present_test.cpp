#include "cli/present.hpp"

#include <boost/asio/error.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/system/errc.hpp>

#include <doctest/doctest.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

namespace json = boost::json;

using fxrates::currency_code;
using fxrates::rates_outcome;

// A vector from Python 3.11: `format(x, "7.03")`; `x` is written as Python's repr, so the
// literal is the same double on both sides.
struct seed_vector
{
    double x;
    std::string_view expected;
};

std::string shortest(double x)
{
    char buffer[64];
    return std::string(buffer, std::to_chars(buffer, buffer + sizeof buffer, x).ptr);
}

void check_vectors(std::initializer_list<seed_vector> vectors)
{
    for (const auto& v : vectors)
    {
        INFO("x = ", shortest(v.x));
        CHECK(fxrates::format_seed_number(v.x) == v.expected);
    }
}

constexpr std::chrono::year_month_day april_9_2019{std::chrono::year{2019}, std::chrono::April,
                                                   std::chrono::day{9}};

rates_outcome success(std::string_view base,
                      std::initializer_list<std::pair<std::string_view, double>> values)
{
    rates_outcome outcome;
    outcome.base = currency_code(base);
    outcome.value.base = outcome.base;
    outcome.value.date = april_9_2019;
    for (const auto& [code, rate] : values)
        outcome.value.values.emplace(currency_code(code), rate);
    return outcome;
}

rates_outcome failure(std::string_view base, fxrates::error_code error, std::string client_message = {},
                      std::string server_message = {})
{
    rates_outcome outcome;
    outcome.base = currency_code(base);
    outcome.error = error;
    outcome.diag.set_client_message(std::move(client_message));
    outcome.diag.set_server_message(std::move(server_message));
    return outcome;
}

std::vector<currency_code> codes(std::initializer_list<std::string_view> texts)
{
    std::vector<currency_code> result;
    for (auto text : texts)
        result.emplace_back(text);
    return result;
}

const std::vector<currency_code> book_symbols = codes({"USD", "EUR", "PLN", "NOK", "CZK"});

// The book's job on 2019-04-09: ECB reference rates rebased as the API contract says (decimal
// arithmetic, 6 places, half to even). The USD row leaves out USD itself, as an API may.
std::vector<rates_outcome> book_matrix()
{
    return {
        success("USD", {{"EUR", 0.886761}, {"PLN", 3.801543}, {"NOK", 8.529751}, {"CZK", 22.717035}}),
        success("EUR", {{"USD", 1.1277}, {"EUR", 1.0}, {"PLN", 4.287}, {"NOK", 9.619}, {"CZK", 25.618}}),
        success("PLN",
                {{"USD", 0.263051}, {"EUR", 0.233263}, {"PLN", 1.0}, {"NOK", 2.24376}, {"CZK", 5.975741}}),
        success("NOK",
                {{"USD", 0.117237}, {"EUR", 0.103961}, {"PLN", 0.44568}, {"NOK", 1.0}, {"CZK", 2.663271}}),
        success("CZK",
                {{"USD", 0.04402}, {"EUR", 0.039035}, {"PLN", 0.167343}, {"NOK", 0.375478}, {"CZK", 1.0}}),
    };
}

const std::string bad_request_message = "HTTP 400 Bad Request: the API rejected a parameter.";

// Reads the number written right after `"KEY":` in `document`, with a correctly rounded parser:
// Boost.JSON 1.81's own number parsing is not always correctly rounded for 17-digit values.
double number_after_key(const std::string& document, std::string_view key)
{
    std::string marker = "\"" + std::string(key) + "\":";
    auto position = document.find(marker);
    REQUIRE(position != std::string::npos);
    double value = 0;
    const char* begin = document.data() + position + marker.size();
    auto result = std::from_chars(begin, document.data() + document.size(), value);
    REQUIRE(result.ec == std::errc{});
    return value;
}

bool same_bits(double a, double b)
{
    return std::memcmp(&a, &b, sizeof a) == 0;
}

// A comparison of 5 requests per strategy on the built-in server at 100 ms.
fxrates::comparison comparison_of(std::vector<fxrates::comparison_row> rows)
{
    fxrates::comparison table;
    table.requests_per_strategy = 5;
    table.latency_ms = 100;
    table.rows = std::move(rows);
    return table;
}

} // namespace

TEST_CASE("format_seed_number keeps fixed notation for exponents from -4 to 1")
{
    check_vectors({
        {1.0, "    1.0"},
        {0.886761, "  0.887"},
        {3.801543, "    3.8"},
        {8.529751, "   8.53"},
        {22.717035, "   22.7"},
        {0.0465, " 0.0465"},
        {0.5, "    0.5"},
        {1.5, "    1.5"},
        {0.05, "   0.05"},
        {0.125, "  0.125"},
        {10.0, "   10.0"},
        {10.05, "   10.1"},
        {99.94, "   99.9"},
        {0.0001, " 0.0001"},
        {0.000465, "0.000465"},
    });
}

TEST_CASE("format_seed_number switches to scientific notation from exponent 2 up")
{
    check_vectors({
        {100.0, "  1e+02"},
        {111.297, "1.11e+02"},
        {123456789.0, "1.23e+08"},
        {1000.0, "  1e+03"},
        {1e+22, "  1e+22"},
        {1e+100, " 1e+100"},
    });
}

TEST_CASE("format_seed_number switches to scientific notation below exponent -4")
{
    check_vectors({
        {7e-05, "  7e-05"},
        {4.65e-05, "4.65e-05"},
        {1e-05, "  1e-05"},
        {5e-05, "  5e-05"},
        {9.99e-05, "9.99e-05"},
        {1e-100, " 1e-100"},
    });
}

TEST_CASE("format_seed_number decides the notation from the exponent after rounding")
{
    check_vectors({
        {9.9996, "   10.0"},
        {9.994, "   9.99"},
        {99.96, "  1e+02"},
        {99.95, "  1e+02"}, // the double is a little above 99.95
        {999.5, "  1e+03"},
        {9.9996e-05, " 0.0001"},
        {9.995e-05, " 0.0001"},
        {0.00099996, "  0.001"},
        {1.0005, "    1.0"},
    });
}

TEST_CASE("format_seed_number rounds ties to even on the exact binary value")
{
    check_vectors({
        {1.125, "   1.12"},  // exact tie, down to even
        {1.375, "   1.38"},  // exact tie, up to even
        {12.25, "   12.2"},  // exact tie
        {12.75, "   12.8"},  // exact tie
        {1.0625, "   1.06"}, // exact tie
        {100.5, "  1e+02"},  // exact tie at exponent 2
        {101.5, "1.02e+02"}, // exact tie, up to even
        {102.5, "1.02e+02"}, // exact tie, down to even
        {9.995, "   9.99"},  // no tie: the double is below 9.995
        {2.675, "   2.67"},  // no tie: the double is below 2.675
        {1.135, "   1.14"},  // no tie: the double is above 1.135
    });
}

TEST_CASE("format_seed_number keeps the sign of negatives and of negative zero")
{
    check_vectors({
        {0.0, "    0.0"},
        {-0.0, "   -0.0"},
        {-1.0, "   -1.0"},
        {-22.717035, "  -22.7"},
        {-111.297, "-1.11e+02"},
        {-7e-05, " -7e-05"},
        {-9.9996, "  -10.0"},
    });
}

TEST_CASE("format_seed_number handles the largest, the smallest normal and the smallest subnormal double")
{
    check_vectors({
        {1.7976931348623157e+308, "1.8e+308"},
        {2.2250738585072014e-308, "2.23e-308"},
        {5e-324, "4.94e-324"},
    });
}

TEST_CASE("format_seed_number prints infinities and NaN as Python does, dropping the sign of NaN")
{
    constexpr double inf = std::numeric_limits<double>::infinity();
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    check_vectors({
        {inf, "    inf"},
        {-inf, "   -inf"},
        {nan, "    nan"},
        {-nan, "    nan"},
    });
}

TEST_CASE("output formats parse from their command-line names only")
{
    using fxrates::output_format;
    CHECK(fxrates::parse_output_format("table") == output_format::table);
    CHECK(fxrates::parse_output_format("json") == output_format::json);
    CHECK(fxrates::parse_output_format("csv") == output_format::csv);
    for (auto name : {"", "JSON", "Csv", "tsv", "table ", "js"})
    {
        INFO("name = '", name, "'");
        CHECK_FALSE(fxrates::parse_output_format(name));
    }
    for (auto format : {output_format::table, output_format::json, output_format::csv})
        CHECK(fxrates::parse_output_format(fxrates::to_string(format)) == format);
}

TEST_CASE("the table reproduces the book's 5x5 matrix byte for byte")
{
    auto outcomes = book_matrix();
    // Python: the book's present_result over these rates, then print() and the elapsed line.
    CHECK(fxrates::render_table(outcomes, book_symbols, 0.4049) ==
          "1 USD =     1.0 USD,   0.887 EUR,     3.8 PLN,    8.53 NOK,    22.7 CZK\n"
          "1 EUR =    1.13 USD,     1.0 EUR,    4.29 PLN,    9.62 NOK,    25.6 CZK\n"
          "1 PLN =   0.263 USD,   0.233 EUR,     1.0 PLN,    2.24 NOK,    5.98 CZK\n"
          "1 NOK =   0.117 USD,   0.104 EUR,   0.446 PLN,     1.0 NOK,    2.66 CZK\n"
          "1 CZK =   0.044 USD,   0.039 EUR,   0.167 PLN,   0.375 NOK,     1.0 CZK\n"
          "\n"
          "time elapsed: 0.40s\n");
}

TEST_CASE("the table shows the base's own rate as 1.0 whatever the API sent")
{
    std::vector<rates_outcome> outcomes{success("EUR", {{"EUR", 0.999999}, {"USD", 1.1277}})};
    CHECK(fxrates::render_table(outcomes, codes({"EUR", "USD"}), 0) ==
          "1 EUR =     1.0 EUR,    1.13 USD\n\ntime elapsed: 0.00s\n");
}

TEST_CASE("the table prints n/a in the number's place for a symbol without a rate")
{
    std::vector<rates_outcome> outcomes{success("USD", {{"EUR", 0.886761}})};
    CHECK(fxrates::render_table(outcomes, codes({"EUR", "HRK", "USD"}), 0.5) ==
          "1 USD =   0.887 EUR,     n/a HRK,     1.0 USD\n\ntime elapsed: 0.50s\n");
}

TEST_CASE("the table skips failed outcomes and keeps the others in input order")
{
    std::vector<rates_outcome> outcomes{
        success("PLN", {{"USD", 0.263051}}),
        failure("XXX", fxrates::make_http_error(400), {}, "Base currency 'XXX' is not supported."),
        success("CZK", {{"USD", 0.04402}}),
        failure("USD", fxrates::errc::bad_response, "the field 'rates' is missing"),
    };
    CHECK(fxrates::render_table(outcomes, codes({"USD"}), 1.0) ==
          "1 PLN =   0.263 USD\n1 CZK =   0.044 USD\n\ntime elapsed: 1.00s\n");
}

TEST_CASE("the table prints the elapsed time as Python's {:.2f}")
{
    // Python: "{:.2f}".format(seconds) for each vector.
    const seed_vector vectors[] = {{0.125, "0.12"}, {0.375, "0.38"},    {1.005, "1.00"},
                                   {0.0, "0.00"},   {12.3456, "12.35"}, {61.0, "61.00"}};
    for (const auto& v : vectors)
    {
        INFO("seconds = ", shortest(v.x));
        CHECK(fxrates::render_table({}, book_symbols, v.x) ==
              "\ntime elapsed: " + std::string(v.expected) + "s\n");
    }
}

TEST_CASE("the JSON document has its keys in a fixed order and ends with a newline")
{
    std::vector<rates_outcome> outcomes{
        success("USD", {{"EUR", 0.886761}, {"PLN", 3.801543}}),
        failure("XXX", fxrates::make_http_error(400), {}, "Base currency 'XXX' is not supported."),
    };
    CHECK(
        fxrates::render_json(outcomes, codes({"USD", "EUR", "PLN"}), 0.12) ==
        R"({"schema":"fxrates.rates/1",)"
        R"("results":[{"base":"USD","date":"2019-04-09","rates":{"USD":1.0,"EUR":0.886761,"PLN":3.801543}},)"
        R"({"base":"XXX","error":{"category":"fxrates.http","code":400,)"
        R"("message":"HTTP 400 Bad Request: the API rejected a parameter.","detail":"",)"
        R"("server_text":"Base currency 'XXX' is not supported."}}],"elapsed_seconds":0.12})"
        "\n");
}

TEST_CASE("the JSON document parses back and round-trips every double exactly")
{
    auto outcomes = book_matrix();
    const double third = 1.0 / 3.0;
    const double sum = 0.1 + 0.2;
    outcomes.push_back(success("AAA", {{"AAB", third},
                                       {"AAC", sum},
                                       {"AAD", 100.0},
                                       {"AAE", 1e22},
                                       {"AAF", 5e-324},
                                       {"AAG", 1.7976931348623157e308},
                                       {"AAH", 2.2250738585072014e-308}}));
    auto extra = codes({"AAB", "AAC", "AAD", "AAE", "AAF", "AAG", "AAH"});
    std::vector<currency_code> symbols = book_symbols;
    symbols.insert(symbols.end(), extra.begin(), extra.end());
    auto document = fxrates::render_json(outcomes, symbols, 0.4049);

    json::value root = json::parse(document);
    const auto& results = root.at("results").as_array();
    REQUIRE(results.size() == outcomes.size());
    for (std::size_t i = 0; i < outcomes.size(); ++i)
    {
        const auto& result = results[i].as_object();
        const auto& outcome = outcomes[i];
        INFO("base = ", outcome.base.str());
        CHECK(result.at("base").as_string() == outcome.base.view());
        CHECK(result.at("date").as_string() == "2019-04-09");
        const auto& rates = result.at("rates").as_object();
        for (const auto& entry : rates)
        {
            INFO("symbol = ", std::string(entry.key()));
            // Integral doubles are written as 1.0 or 1e+22, so they come back as doubles too.
            REQUIRE(entry.value().is_double());
            auto symbol = currency_code(entry.key());
            double expected = symbol == outcome.base ? 1.0 : outcome.value.values.at(symbol);
            // Boost.JSON 1.81 reads back these values exactly (it is off by one ulp for some other
            // 17-digit doubles); number_after_key checks the text itself with a correct parser.
            CHECK(same_bits(entry.value().as_double(), expected));
        }
        CHECK(rates.size() == (i < 5 ? 5u : 7u));
    }
    CHECK(root.at("elapsed_seconds").as_double() == 0.4049);

    CHECK(document.find("\"AAB\":0.3333333333333333,") != std::string::npos);
    CHECK(document.find("\"AAD\":100.0,") != std::string::npos);
    CHECK(document.find("\"AAE\":1e+22,") != std::string::npos);
    for (const auto& [symbol, rate] : outcomes.back().value.values)
        CHECK(same_bits(number_after_key(document, symbol.view()), rate));
}

TEST_CASE("the JSON document keeps failures at their input position with the error and both messages")
{
    std::vector<rates_outcome> outcomes{
        failure("XXX", fxrates::make_http_error(400), {}, "Base currency 'XXX' is not supported."),
        success("USD", {{"EUR", 0.886761}}),
        failure("EUR", fxrates::errc::bad_response, "the field 'rates' is missing", "oops"),
        success("PLN", {{"EUR", 0.233263}}),
    };
    json::value root = json::parse(fxrates::render_json(outcomes, codes({"EUR"}), 0));
    const auto& results = root.at("results").as_array();
    REQUIRE(results.size() == 4);
    CHECK(results[0].at("base").as_string() == "XXX");
    CHECK(results[1].at("base").as_string() == "USD");
    CHECK(results[2].at("base").as_string() == "EUR");
    CHECK(results[3].at("base").as_string() == "PLN");
    CHECK_FALSE(results[0].as_object().contains("rates"));
    CHECK_FALSE(results[1].as_object().contains("error"));

    const auto& http = results[0].at("error").as_object();
    CHECK(http.at("category").as_string() == "fxrates.http");
    CHECK(http.at("code").as_int64() == 400);
    CHECK(http.at("message").as_string() == bad_request_message);
    CHECK(http.at("detail").as_string() == "");
    CHECK(http.at("server_text").as_string() == "Base currency 'XXX' is not supported.");

    const auto& client = results[2].at("error").as_object();
    CHECK(client.at("category").as_string() == "fxrates.client");
    CHECK(client.at("code").as_int64() == 1);
    CHECK(client.at("message").as_string() == fxrates::error_code(fxrates::errc::bad_response).message());
    CHECK(client.at("detail").as_string() == "the field 'rates' is missing");
    CHECK(client.at("server_text").as_string() == "oops");
    CHECK(client.size() == 5);
    CHECK(root.at("elapsed_seconds").as_double() == 0.0);
}

TEST_CASE("the JSON document leaves out missing rates and repeated symbols")
{
    std::vector<rates_outcome> outcomes{success("USD", {{"EUR", 0.886761}})};
    CHECK(fxrates::render_json(outcomes, codes({"EUR", "HRK", "EUR", "USD", "USD"}), 1) ==
          R"({"schema":"fxrates.rates/1","results":[{"base":"USD","date":"2019-04-09",)"
          R"("rates":{"EUR":0.886761,"USD":1.0}}],)"
          R"("elapsed_seconds":1.0})"
          "\n");
}

TEST_CASE("the JSON document escapes untrusted strings and stays valid UTF-8")
{
    std::string server = "say \"hi\"\\\n\x01\x1b[31m caf\xc3\xa9 \xff!";
    std::vector<rates_outcome> outcomes{failure("USD", fxrates::make_http_error(500), {}, server)};
    auto document = fxrates::render_json(outcomes, {}, 0);
    CHECK(document.find('\n') == document.size() - 1);
    CHECK(document.find('\x1b') == std::string::npos);
    json::value root = json::parse(document); // throws on invalid UTF-8
    CHECK(root.at("results").at(0).at("error").at("server_text").as_string() ==
          "say \"hi\"\\\n\x01\x1b[31m caf\xc3\xa9 \xef\xbf\xbd!");
}

TEST_CASE("the JSON document writes numbers JSON cannot express as null")
{
    std::vector<rates_outcome> outcomes{success("USD", {{"EUR", std::numeric_limits<double>::infinity()}})};
    auto document = fxrates::render_json(outcomes, codes({"EUR"}), std::numeric_limits<double>::quiet_NaN());
    CHECK(
        document ==
        R"({"schema":"fxrates.rates/1","results":[{"base":"USD","date":"2019-04-09","rates":{"EUR":null}}],)"
        R"("elapsed_seconds":null})"
        "\n");
    CHECK_NOTHROW(json::parse(document));
}

TEST_CASE("the JSON document names its schema version first, even with no results")
{
    CHECK(fxrates::rates_json_schema == "fxrates.rates/1");
    auto document = fxrates::render_json({}, book_symbols, 0.5);
    CHECK(document == R"({"schema":"fxrates.rates/1","results":[],"elapsed_seconds":0.5})"
                      "\n");
    json::value root = json::parse(fxrates::render_json(book_matrix(), book_symbols, 0.5));
    CHECK(root.at("schema").as_string() == fxrates::rates_json_schema);
    CHECK(root.as_object().begin()->key() == "schema");
}

TEST_CASE("json_record is one base as one object without a newline, the element of the document")
{
    std::vector<rates_outcome> outcomes{
        success("USD", {{"EUR", 0.886761}}),
        failure("XXX", fxrates::make_http_error(400), {}, "Base currency 'XXX' is not supported."),
    };
    const std::vector<currency_code> symbols = codes({"EUR", "USD", "EUR"});
    auto ok = fxrates::json_record(outcomes[0], symbols);
    auto failed = fxrates::json_record(outcomes[1], symbols);
    CHECK(ok == R"({"base":"USD","date":"2019-04-09","rates":{"EUR":0.886761,"USD":1.0}})");
    CHECK(failed == R"({"base":"XXX","error":{"category":"fxrates.http","code":400,)"
                    R"("message":"HTTP 400 Bad Request: the API rejected a parameter.","detail":"",)"
                    R"("server_text":"Base currency 'XXX' is not supported."}})");
    CHECK(fxrates::render_json(outcomes, symbols, 1) == R"({"schema":"fxrates.rates/1","results":[)" + ok +
                                                            "," + failed + R"(],"elapsed_seconds":1.0})" +
                                                            "\n");
}

TEST_CASE("a failure's error is structured: category, code, message, detail and server text")
{
    struct error_case
    {
        fxrates::error_code error;
        std::string_view category;
        int code;
    };
    for (const auto& c : {
             error_case{fxrates::make_http_error(503), "fxrates.http", 503},
             error_case{fxrates::errc::bad_response, "fxrates.client",
                        static_cast<int>(fxrates::errc::bad_response)},
             error_case{make_error_code(boost::system::errc::connection_refused), "generic", ECONNREFUSED},
             error_case{boost::asio::error::host_not_found, "asio.netdb", boost::asio::error::host_not_found},
         })
    {
        INFO("category = ", std::string(c.category));
        auto record = fxrates::json_record(failure("USD", c.error, "our explanation", "their text"), {});
        json::value root = json::parse(record);
        const auto& error = root.at("error").as_object();
        CHECK(error.size() == 5);
        CHECK(error.at("category").as_string() == c.category);
        CHECK(error.at("code").as_int64() == c.code);
        CHECK(error.at("message").as_string() == c.error.message());
        CHECK(error.at("detail").as_string() == "our explanation");
        CHECK(error.at("server_text").as_string() == "their text");
    }
}

TEST_CASE("the structured error is valid JSON whatever bytes the server sent")
{
    // Control characters, DEL, a NUL, a bidi override, a lone continuation byte, a cut-off
    // sequence, an overlong '/' and an encoded surrogate: none may break the record or reach a
    // terminal raw; text that is valid UTF-8 comes back exactly.
    std::string server(
        "\x01\x1b[2J\x7f q\"\\ \n\r\t\0 \xe2\x80\xae caf\xc3\xa9 \x80 \xe2\x82 \xc0\xaf \xed\xa0\x80 ok", 40);
    std::string detail = "the field 'date' is not a date: '\\x1b[31m'";
    auto record = fxrates::json_record(failure("USD", fxrates::errc::bad_response, detail, server), {});
    CHECK(record.find('\n') == std::string::npos);
    for (char c : record)
        CHECK(static_cast<unsigned char>(c) >= 0x20);
    json::value root = json::parse(record); // throws on invalid UTF-8
    const auto& error = root.at("error").as_object();
    CHECK(error.at("detail").as_string() == detail);
    const std::string replacement = "\xef\xbf\xbd";
    CHECK(std::string_view(error.at("server_text").as_string()) ==
          std::string("\x01\x1b[2J\x7f q\"\\ \n\r\t\0 \xe2\x80\xae caf\xc3\xa9 ", 26) + replacement + " " +
              replacement + replacement + " " + replacement + replacement + " " + replacement + replacement +
              replacement + " ok");
}

TEST_CASE("the comparison table keeps its layout: aligned columns, speed-up, failures marked")
{
    auto table = comparison_of({
        {"sequential", 0.51, 0.014, 1, 10956, 1.0, 5, 0},
        {"thread-pool-throttled", 0.602, 0.022, 5, 11469, 0.51 / 0.602, 5, 2},
    });
    CHECK(fxrates::render_comparison_table(table) ==
          "5 requests per strategy against the built-in server, 100 ms latency\n\n"
          "strategy                    wall       CPU  threads    peak RSS  speed-up\n"
          "sequential               0.510 s   0.014 s        1    10.7 MiB      1.0x\n"
          "thread-pool-throttled    0.602 s   0.022 s        5    11.2 MiB      0.8x  (some requests "
          "failed)\n");
    table.api = "https://example.com/\x1b[31m";
    table.rows[0].speedup.reset();
    auto text = fxrates::render_comparison_table(table);
    CHECK(text.starts_with("5 requests per strategy against https://example.com/\\x1b[31m\n\n"));
    CHECK(text.find("1    10.7 MiB         -\n") != std::string::npos);
    CHECK(fxrates::render_comparison(fxrates::output_format::table, table) == text);

    // The strategy Ctrl-C stopped says so, rather than that some requests failed.
    table.rows[1].interrupted = true;
    CHECK(fxrates::render_comparison_table(table).find("(interrupted)") != std::string::npos);
}

TEST_CASE("the comparison as JSON: its schema, where it ran, one object per strategy")
{
    auto table = comparison_of({
        {"sequential", 0.5, 0.014, 1, 10956, 1.0, 5, 0},
        {"async", 0.125, 0.015, 1, 11000, 4.0, 5, 1},
    });
    auto document = fxrates::render_comparison_json(table);
    CHECK(
        document ==
        R"({"schema":"fxrates.compare/1","requests_per_strategy":5,"api":null,"latency_ms":100.0,"strategies":[)"
        R"({"strategy":"sequential","wall_seconds":0.5,"cpu_seconds":0.014,"peak_threads":1,)"
        R"("peak_rss_kib":10956,"speedup":1.0,"requests":5,"failed":0,"interrupted":false},)"
        R"({"strategy":"async","wall_seconds":0.125,"cpu_seconds":0.015,"peak_threads":1,)"
        R"("peak_rss_kib":11000,"speedup":4.0,"requests":5,"failed":1,"interrupted":false}]})"
        "\n");
    CHECK(fxrates::render_comparison(fxrates::output_format::json, table) == document);

    table.api = "https://api.example.com";
    table.rows.pop_back();
    table.rows[0].speedup.reset();
    json::value root = json::parse(fxrates::render_comparison_json(table));
    CHECK(root.at("schema").as_string() == fxrates::compare_json_schema);
    CHECK(root.at("api").as_string() == "https://api.example.com");
    CHECK(root.at("latency_ms").is_null());
    CHECK(root.at("strategies").at(0).at("speedup").is_null());
}

TEST_CASE("the comparison as CSV: a header and the same values, an empty cell for no speed-up")
{
    auto table = comparison_of({
        {"async", 0.125, 0.015, 1, 11000, std::nullopt, 5, 0},
        {"thread-pool", 0.25, 0.02, 5, 11469, std::nullopt, 5, 5},
    });
    CHECK(fxrates::render_comparison_csv(table) ==
          "strategy,wall_seconds,cpu_seconds,peak_threads,peak_rss_kib,speedup,requests,failed,interrupted\n"
          "async,0.125,0.015,1,11000,,5,0,false\n"
          "thread-pool,0.25,0.02,5,11469,,5,5,false\n");
    CHECK(fxrates::render_comparison(fxrates::output_format::csv, table) ==
          fxrates::render_comparison_csv(table));
}

TEST_CASE("the CSV has a header, one row per outcome in input order and empty cells for missing rates")
{
    std::vector<rates_outcome> outcomes{
        success("USD", {{"EUR", 0.886761}, {"NOK", 8.529751}}),
        failure("XXX", fxrates::make_http_error(400)),
        success("NOK", {{"USD", 0.117237}, {"EUR", 0.103961}, {"PLN", 0.44568}}),
    };
    CHECK(fxrates::render_csv(outcomes, codes({"USD", "EUR", "PLN", "NOK"}), 0.4) ==
          "base,date,USD,EUR,PLN,NOK,error\n"
          "USD,2019-04-09,1.0,0.886761,,8.529751,\n"
          "XXX,,,,,,HTTP 400 Bad Request: the API rejected a parameter.\n"
          "NOK,2019-04-09,0.117237,0.103961,0.44568,1.0,\n");
}

TEST_CASE("the CSV quotes an error text with a comma and a quote as RFC 4180 says")
{
    std::vector<rates_outcome> outcomes{
        failure("XXX", fxrates::make_http_error(400), {}, "Base \"XXX\", unknown"),
    };
    // The cell's text is describe_failure's (the server's quote escaped as \"); CSV then doubles
    // every quote and wraps the cell in quotes.
    CHECK(
        fxrates::render_csv(outcomes, codes({"USD"}), 0) ==
        "base,date,USD,error\n"
        "XXX,,,\"HTTP 400 Bad Request: the API rejected a parameter. Server says: \"\"Base \\\"\"XXX\\\"\", "
        "unknown\"\"\"\n");
}

TEST_CASE("describe_failure names the base and the error and quotes the server's message")
{
    auto outcome = failure("XXX", fxrates::make_http_error(400), {}, "Base currency 'XXX' is not supported.");
    CHECK(fxrates::describe_failure(outcome) == "XXX: HTTP 400 Bad Request: the API rejected a parameter. "
                                                "Server says: \"Base currency 'XXX' is not supported.\"");
}

TEST_CASE("describe_failure adds our own explanation before the server's message")
{
    auto outcome = failure("USD", fxrates::errc::bad_response, "the field 'rates' is missing", "{}");
    CHECK(fxrates::describe_failure(outcome) ==
          "USD: " + fxrates::error_code(fxrates::errc::bad_response).message() +
              " Details: the field 'rates' is missing. Server says: \"{}\"");
    CHECK(fxrates::describe_failure(failure("USD", fxrates::make_http_error(503))) ==
          "USD: HTTP 503 Service Unavailable: try again later.");
}

TEST_CASE("describe_failure escapes control characters from the server's message")
{
    auto outcome = failure("USD", fxrates::make_http_error(500), {},
                           "\x1b[2J\x1b]0;owned\x07 line\r\nUSD: fake\ttab\x7f \"q\" \\ "
                           "\xc2\x9b \xe2\x80\xae evil \xff caf\xc3\xa9");
    auto line = fxrates::describe_failure(outcome);
    CHECK(line == "USD: HTTP 500 Internal Server Error: the API failed; try again later. Server says: "
                  "\"\\x1b[2J\\x1b]0;owned\\x07 line\\r\\nUSD: fake\\ttab\\x7f \\\"q\\\" \\\\ "
                  "\\u009b \\u202e evil \\xff caf\xc3\xa9\"");
    for (char c : line)
        CHECK((static_cast<unsigned char>(c) >= 0x20 && c != 0x7f));
}

TEST_CASE("describe_failure escapes control characters in our explanation, which may quote the server")
{
    auto outcome = failure("USD", fxrates::errc::bad_response, "the field 'date' is not a date: '\x1b[31m'");
    CHECK(fxrates::describe_failure(outcome).find("'\\x1b[31m'.") != std::string::npos);
}

TEST_CASE("describe_failure does not escape twice what the library already escaped")
{
    auto outcome = failure("USD", fxrates::errc::bad_http, "the status line 'HTTP/1.1 2\\x01' is not \"HTTP\"");
    CHECK(fxrates::describe_failure(outcome).find("'HTTP/1.1 2\\x01' is not \"HTTP\".") != std::string::npos);
}

TEST_CASE("describe_failure ends a message from the system as a sentence")
{
    auto outcome = failure("USD", make_error_code(boost::system::errc::connection_refused));
    auto line = fxrates::describe_failure(outcome);
    CHECK(line == "USD: " + outcome.error.message() + ".");
}

TEST_CASE("render dispatches on the output format")
{
    auto outcomes = book_matrix();
    CHECK(fxrates::render(fxrates::output_format::table, outcomes, book_symbols, 0.1) ==
          fxrates::render_table(outcomes, book_symbols, 0.1));
    CHECK(fxrates::render(fxrates::output_format::json, outcomes, book_symbols, 0.1) ==
          fxrates::render_json(outcomes, book_symbols, 0.1));
    CHECK(fxrates::render(fxrates::output_format::csv, outcomes, book_symbols, 0.1) ==
          fxrates::render_csv(outcomes, book_symbols, 0.1));
}
