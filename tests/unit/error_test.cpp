#include <fxrates/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/system/error_code.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <doctest/doctest.h>

#include <cctype>
#include <initializer_list>
#include <string>
#include <string_view>

namespace
{

namespace asio = boost::asio;
namespace beast = boost::beast;

// A full sentence: starts with an upper-case letter, ends with a full stop, more than a word.
bool is_sentence(const std::string& text)
{
    return text.size() > 10 && std::isupper(static_cast<unsigned char>(text.front())) && text.back() == '.' &&
           text.find(' ') != std::string::npos;
}

} // namespace

TEST_CASE("the categories have dotted names")
{
    CHECK(std::string_view(fxrates::client_category().name()) == "fxrates.client");
    CHECK(std::string_view(fxrates::http_category().name()) == "fxrates.http");
    CHECK(std::string_view(fxrates::condition_category().name()) == "fxrates.condition");
}

TEST_CASE("the category functions return one instance each")
{
    CHECK(&fxrates::client_category() == &fxrates::client_category());
    CHECK(&fxrates::http_category() == &fxrates::http_category());
    CHECK(&fxrates::condition_category() == &fxrates::condition_category());
    CHECK(fxrates::client_category() != fxrates::http_category());
}

TEST_CASE("errc converts implicitly to an error code of the client category")
{
    fxrates::error_code ec = fxrates::errc::bad_response;
    CHECK(ec.value() == 1);
    CHECK(ec.category() == fxrates::client_category());
    CHECK(ec.failed());
    CHECK(static_cast<bool>(ec));
    CHECK(ec == fxrates::make_error_code(fxrates::errc::bad_response));
}

TEST_CASE("an HTTP error code carries the status as its value")
{
    auto ec = fxrates::make_http_error(404);
    CHECK(ec.value() == 404);
    CHECK(ec.category() == fxrates::http_category());
    CHECK(ec == fxrates::make_http_error(404));
    CHECK(ec != fxrates::make_http_error(500));
}

TEST_CASE("only 4xx and 5xx HTTP statuses count as failures")
{
    for (unsigned status : {100u, 200u, 204u, 301u, 304u, 399u})
    {
        CAPTURE(status);
        auto ec = fxrates::make_http_error(status);
        CHECK(ec.value() != 0);
        CHECK_FALSE(ec.failed());
        CHECK_FALSE(static_cast<bool>(ec));
        CHECK_FALSE(!!ec);
        CHECK(!ec);
    }
    for (unsigned status : {400u, 404u, 429u, 500u, 503u, 599u})
    {
        CAPTURE(status);
        auto ec = fxrates::make_http_error(status);
        CHECK(ec.failed());
        CHECK(static_cast<bool>(ec));
        CHECK(!!ec);
    }
}

TEST_CASE("error messages are sentences")
{
    auto client = fxrates::make_error_code(fxrates::errc::bad_response).message();
    CAPTURE(client);
    CHECK(is_sentence(client));

    for (unsigned status : {400u, 404u, 405u, 429u, 500u, 502u, 503u, 504u})
    {
        auto text = fxrates::make_http_error(status).message();
        CAPTURE(text);
        CHECK(is_sentence(text));
        CHECK(text.find(std::to_string(status)) != std::string::npos);
    }
    // Any other status still names itself and ends like a sentence.
    for (unsigned status : {200u, 418u, 599u})
    {
        auto text = fxrates::make_http_error(status).message();
        CAPTURE(text);
        CHECK(text.rfind("HTTP " + std::to_string(status), 0) == 0);
        CHECK(text.back() == '.');
    }

    for (auto c : {fxrates::condition::timeout, fxrates::condition::rate_limited,
                   fxrates::condition::transient, fxrates::condition::bad_response})
    {
        auto text = fxrates::make_error_condition(c).message();
        CAPTURE(text);
        CHECK(is_sentence(text));
    }
}

TEST_CASE("HTTP messages say what to do about retryable statuses")
{
    CHECK(fxrates::make_http_error(429).message().find("Too Many Requests") != std::string::npos);
    CHECK(fxrates::make_http_error(503).message().find("try again") != std::string::npos);
    CHECK(fxrates::make_http_error(404).message().find("Not Found") != std::string::npos);
}

TEST_CASE("HTTP 429 and only 429 matches condition::rate_limited")
{
    CHECK(fxrates::make_http_error(429) == fxrates::condition::rate_limited);
    CHECK(fxrates::make_http_error(429) != fxrates::condition::transient);
    for (unsigned status : {200u, 400u, 404u, 428u, 430u, 503u})
    {
        CAPTURE(status);
        CHECK(fxrates::make_http_error(status) != fxrates::condition::rate_limited);
    }
}

TEST_CASE("HTTP 502, 503 and 504 match condition::transient but 500 does not")
{
    for (unsigned status : {502u, 503u, 504u})
    {
        CAPTURE(status);
        CHECK(fxrates::make_http_error(status) == fxrates::condition::transient);
        CHECK(fxrates::make_http_error(status) != fxrates::condition::rate_limited);
    }
    for (unsigned status : {500u, 501u, 505u, 404u, 429u, 200u})
    {
        CAPTURE(status);
        CHECK(fxrates::make_http_error(status) != fxrates::condition::transient);
    }
}

TEST_CASE("Beast and Asio timeouts match condition::timeout")
{
    fxrates::error_code beast_timeout = beast::error::timeout;
    fxrates::error_code asio_timeout = asio::error::timed_out;
    CHECK(beast_timeout == fxrates::condition::timeout);
    CHECK(asio_timeout == fxrates::condition::timeout);
    CHECK(beast_timeout != fxrates::condition::transient);

    fxrates::error_code refused = asio::error::connection_refused;
    fxrates::error_code aborted = asio::error::operation_aborted;
    CHECK(refused != fxrates::condition::timeout);
    CHECK(aborted != fxrates::condition::timeout);
    CHECK(fxrates::make_http_error(504) != fxrates::condition::timeout);
}

TEST_CASE("errc::bad_response matches condition::bad_response and nothing else does")
{
    fxrates::error_code bad = fxrates::errc::bad_response;
    CHECK(bad == fxrates::condition::bad_response);
    CHECK(bad != fxrates::condition::timeout);
    CHECK(bad != fxrates::condition::transient);
    CHECK(bad != fxrates::condition::rate_limited);
    CHECK(fxrates::make_http_error(400) != fxrates::condition::bad_response);
    CHECK(fxrates::error_code(asio::error::eof) != fxrates::condition::bad_response);
}

TEST_CASE("a success code matches no condition")
{
    fxrates::error_code ok;
    for (auto c : {fxrates::condition::timeout, fxrates::condition::rate_limited,
                   fxrates::condition::transient, fxrates::condition::bad_response})
    {
        CAPTURE(static_cast<int>(c));
        CHECK(ok != c);
    }
}

TEST_CASE("a condition converts implicitly to an error condition of the condition category")
{
    boost::system::error_condition cond = fxrates::condition::transient;
    CHECK(cond.category() == fxrates::condition_category());
    CHECK(cond.value() == static_cast<int>(fxrates::condition::transient));
}

TEST_CASE("TLS failures match condition::tls and cancellations match condition::cancelled")
{
    namespace asio = boost::asio;
    fxrates::error_code refused(static_cast<int>(ERR_PACK(ERR_LIB_SSL, 0, SSL_R_CERTIFICATE_VERIFY_FAILED)),
                                asio::error::get_ssl_category());
    CHECK(refused == fxrates::condition::tls);
    CHECK(fxrates::error_code(asio::ssl::error::stream_truncated) == fxrates::condition::tls);
    CHECK(fxrates::error_code(asio::error::connection_refused) != fxrates::condition::tls);
    CHECK(fxrates::error_code(asio::error::operation_aborted) == fxrates::condition::cancelled);
    CHECK(fxrates::error_code(fxrates::errc::client_closed) == fxrates::condition::cancelled);
    CHECK(fxrates::make_http_error(499) != fxrates::condition::cancelled);
}
