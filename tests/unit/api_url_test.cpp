#include "client/api_url.hpp"

#include <doctest/doctest.h>

using fxrates::currency_code;
using fxrates::detail::parse_api_url;

namespace {

fxrates::detail::api_endpoint parsed(std::string_view url)
{
    std::string why;
    auto endpoint = parse_api_url(url, why);
    INFO(why);
    REQUIRE(endpoint);
    return *endpoint;
}

std::string refusal(std::string_view url)
{
    std::string why;
    CHECK_FALSE(parse_api_url(url, why));
    return why;
}

} // namespace

TEST_CASE("an https URL gives host, port and base path")
{
    auto real = parsed("https://api.vatcomply.com");
    CHECK(real.host == "api.vatcomply.com");
    CHECK(real.port == 443);
    CHECK(real.base_path.empty());
    CHECK_FALSE(real.host_is_ip);
    CHECK(real.host_header() == "api.vatcomply.com");

    auto local = parsed("https://127.0.0.1:8443/");
    CHECK(local.host == "127.0.0.1");
    CHECK(local.port == 8443);
    CHECK(local.host_is_ip);
    CHECK(local.base_path.empty());
    CHECK(local.host_header() == "127.0.0.1:8443");

    auto v6 = parsed("https://[::1]:9000/api/v1/");
    CHECK(v6.host == "::1");
    CHECK(v6.host_is_ip);
    CHECK(v6.base_path == "/api/v1");
    CHECK(v6.host_header() == "[::1]:9000");
}

TEST_CASE("URLs the client cannot use are refused with the reason")
{
    CHECK(refusal("http://api.vatcomply.com").find("https://") != std::string::npos);
    CHECK(refusal("ftp://example.com").find("scheme") != std::string::npos);
    CHECK(refusal("api.vatcomply.com").find("not a URL") != std::string::npos);
    CHECK_FALSE(refusal("https://user:pw@example.com").empty());
    CHECK_FALSE(refusal("https://example.com/?base=USD").empty());
    CHECK_FALSE(refusal("https://example.com:0").empty());
    CHECK_FALSE(refusal("https:///rates").empty());
    CHECK_FALSE(refusal("").empty());
}

TEST_CASE("a port out of range or not a number is refused as it was written, not wrapped or cut")
{
    CHECK(refusal("https://127.0.0.1:-1") == "the port '-1' is not a port number from 1 to 65535");
    CHECK(refusal("https://127.0.0.1:99999") == "the port '99999' is not a port number from 1 to 65535");
    CHECK(refusal("https://127.0.0.1:65536/api") == "the port '65536' is not a port number from 1 to 65535");
    CHECK(refusal("https://localhost:0") == "the port '0' is not a port number from 1 to 65535");
    CHECK(refusal("https://localhost:") == "the port '' is not a port number from 1 to 65535");
    CHECK(refusal("https://localhost:8x/v1") == "the port '8x' is not a port number from 1 to 65535");
    CHECK(parsed("https://[::1]:65535/v1").port == 65535);
    CHECK(parsed("https://localhost:1").port == 1);
}

TEST_CASE("a host name that decodes to a NUL, a line break or a space is refused")
{
    // A NUL would cut the name OpenSSL checks short of the one resolved; a line break would end
    // the Host header early.
    CHECK(refusal("https://api.example.com%00.evil.test/").find("characters no host name has") != std::string::npos);
    CHECK(refusal("https://api.example.com%0d%0aX-Injected:1/").find("characters no host name has") !=
          std::string::npos);
    CHECK_FALSE(refusal("https://api%20example.com/").empty());
    CHECK(parsed("https://rates-eu_1.example.com").host == "rates-eu_1.example.com");
}

TEST_CASE("the rates target carries base, symbols and date, percent-encoded where needed")
{
    auto endpoint = parsed("https://example.com/v1");
    fxrates::rates_query none;
    CHECK(rates_target(endpoint, currency_code("USD"), none) == "/v1/rates?base=USD");

    fxrates::rates_query query;
    query.symbols = {currency_code("EUR"), currency_code("GBP")};
    query.date = std::chrono::year{2019} / 4 / 9;
    auto target = rates_target(endpoint, currency_code("NOK"), query);
    CHECK((target == "/v1/rates?base=NOK&symbols=EUR,GBP&date=2019-04-09" ||
           target == "/v1/rates?base=NOK&symbols=EUR%2CGBP&date=2019-04-09"));
    CHECK(currencies_target(endpoint) == "/v1/currencies");
}

TEST_CASE("a base path with characters that need escaping stays escaped")
{
    auto endpoint = parsed("https://example.com/my%20api");
    CHECK(rates_target(endpoint, currency_code("USD"), {}) == "/my%20api/rates?base=USD");
}
