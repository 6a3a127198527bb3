#include <fxrates/currency.hpp>

#include <doctest/doctest.h>

#include <functional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_set>

namespace
{

// The message of the std::invalid_argument the constructor throws for `text`, or "" if none.
std::string constructor_error(std::string_view text)
{
    try
    {
        fxrates::currency_code code(text);
        (void)code;
    }
    catch (const std::invalid_argument& e)
    {
        return e.what();
    }
    return {};
}

} // namespace

TEST_CASE("three upper-case letters are a valid currency code")
{
    for (std::string_view text : {"USD", "EUR", "JPY", "AAA", "ZZZ"})
    {
        CAPTURE(text);
        CHECK(fxrates::currency_code::is_valid(text));
        auto code = fxrates::currency_code::parse(text);
        REQUIRE(code.has_value());
        CHECK(code->view() == text);
        CHECK(code->str() == std::string(text));
        CHECK(fxrates::currency_code(text).view() == text);
    }
}

TEST_CASE("is_valid can be evaluated at compile time")
{
    static_assert(fxrates::currency_code::is_valid("GBP"));
    static_assert(!fxrates::currency_code::is_valid("gbp"));
    CHECK(fxrates::currency_code::is_valid("GBP"));
}

TEST_CASE("a code that is in no list of currencies is still valid, since the client checks only the form")
{
    CHECK(fxrates::currency_code::is_valid("QQQ"));
    auto code = fxrates::currency_code::parse("QQQ");
    REQUIRE(code.has_value());
    CHECK(code->view() == "QQQ");
    CHECK_NOTHROW(fxrates::currency_code("QQQ"));
}

TEST_CASE("texts that are not three letters A-Z are rejected by is_valid and parse")
{
    using namespace std::string_view_literals;
    for (std::string_view text :
         {"usd"sv,        "Usd"sv,       "uSD"sv,  "US"sv,   "USDT"sv, "U"sv,   "US1"sv,
          "123"sv,        ""sv,          " USD"sv, "USD "sv, "U D"sv,  "U-D"sv, "US\0"sv,
          "\xc3\x9cSD"sv, "\xc3\x9cS"sv, "@SD"sv,  "[SD"sv,  "US`"sv,  "US{"sv})
    {
        CAPTURE(text);
        CHECK_FALSE(fxrates::currency_code::is_valid(text));
        CHECK_FALSE(fxrates::currency_code::parse(text).has_value());
        CHECK_THROWS_AS(fxrates::currency_code{text}, std::invalid_argument);
    }
}

TEST_CASE("the constructor's exception names the bad input")
{
    for (std::string_view text : {"US", "USDT", "U5D", "12"})
    {
        CAPTURE(text);
        std::string message = constructor_error(text);
        CHECK(message.find("'" + std::string(text) + "'") != std::string::npos);
        CHECK(message.find("three upper-case letters") != std::string::npos);
    }
}

TEST_CASE("the constructor's exception for lower-case letters suggests the upper-case form")
{
    std::string message = constructor_error("usd");
    CHECK(message.find("'usd'") != std::string::npos);
    CHECK(message.find("did you mean USD?") != std::string::npos);

    CHECK(constructor_error("gBp").find("did you mean GBP?") != std::string::npos);
}

TEST_CASE("the constructor's exception does not suggest an upper-case form for input that is not letters")
{
    CHECK(constructor_error("us1").find("did you mean") == std::string::npos);
    CHECK(constructor_error("usdt").find("did you mean") == std::string::npos);
}

TEST_CASE("the constructor's exception for an empty text shows empty quotes")
{
    std::string message = constructor_error("");
    CHECK(message.rfind("'' is not a currency code", 0) == 0);
}

TEST_CASE("control and non-ASCII bytes are escaped in the exception message")
{
    using namespace std::string_view_literals;
    std::string message = constructor_error("U\nS\x01"sv);
    CHECK(message.find("'U\\x0aS\\x01'") != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
    CHECK(message.find('\x01') == std::string::npos);

    std::string with_nul = constructor_error("US\0"sv);
    CHECK(with_nul.find("'US\\x00'") != std::string::npos);

    std::string non_ascii = constructor_error("\xc3\x9cSD"sv);
    CHECK(non_ascii.find("'\\xc3\\x9cSD'") != std::string::npos);

    CHECK(fxrates::describe_invalid_currency("\x7f"sv).find("'\\x7f'") != std::string::npos);
}

TEST_CASE("a very long bad input is shortened in the exception message")
{
    std::string text(1000, 'a');
    std::string message = constructor_error(text);
    CHECK(message.find(std::string(32, 'a') + "...'") != std::string::npos);
    CHECK(message.find(std::string(33, 'a')) == std::string::npos);
    CHECK(message.size() < 200);
}

TEST_CASE("the default currency code is XXX")
{
    fxrates::currency_code code;
    CHECK(code.view() == "XXX");
    CHECK(code == fxrates::currency_code("XXX"));
}

TEST_CASE("currency codes compare equal when their letters are equal")
{
    CHECK(fxrates::currency_code("USD") == fxrates::currency_code("USD"));
    CHECK(fxrates::currency_code("USD") != fxrates::currency_code("EUR"));
    CHECK(fxrates::currency_code::parse("GBP") == fxrates::currency_code("GBP"));
}

TEST_CASE("currency codes are ordered alphabetically")
{
    fxrates::currency_code aud("AUD"), eur("EUR"), eus("EUS"), fur("FUR"), usd("USD");
    CHECK(aud < eur);
    CHECK(eur < eus);
    CHECK(eus < fur);
    CHECK(fur < usd);
    CHECK(usd > aud);
    CHECK((eur <=> fxrates::currency_code("EUR")) == std::strong_ordering::equal);

    std::set<fxrates::currency_code> ordered{usd, eur, aud, fur, eus};
    std::string joined;
    for (auto code : ordered)
        joined += code.str();
    CHECK(joined == "AUDEUREUSFURUSD");
}

TEST_CASE("the hash of a currency code is the hash of its letters")
{
    std::hash<fxrates::currency_code> hash;
    CHECK(hash(fxrates::currency_code("USD")) == hash(fxrates::currency_code("USD")));
    CHECK(hash(fxrates::currency_code("USD")) == std::hash<std::string_view>{}("USD"));

    std::unordered_set<fxrates::currency_code> set{
        fxrates::currency_code("USD"), fxrates::currency_code("EUR"), fxrates::currency_code("USD")};
    CHECK(set.size() == 2);
    CHECK(set.count(fxrates::currency_code("EUR")) == 1);
    CHECK(set.count(fxrates::currency_code("GBP")) == 0);
}
