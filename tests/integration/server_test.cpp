// The look-alike server over real TLS on loopback: the API contract, keep-alive, the rate limit
// and misbehaving clients. Each test starts its own server on port 0.

#include <fxrates/decode.hpp>
#include <fxrates/server/local_server.hpp>

#include "support/https_probe.hpp"

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <thread>

using fxrates::local_server;
using fxrates::server_params;
using fxrates::test::http_reply;
using fxrates::test::https_request;
using fxrates::test::tls_connection;
using namespace std::chrono_literals;

namespace {

server_params test_params()
{
    server_params params;
    params.today = std::chrono::sys_days{std::chrono::year{2026} / 11 / 22};
    return params;
}

fxrates::rates decoded(const http_reply& reply)
{
    fxrates::rates value;
    fxrates::diagnostics diag;
    auto ec = fxrates::decode_rates(reply.body, value, diag);
    INFO(diag.client_message());
    REQUIRE_FALSE(ec);
    return value;
}

} // namespace

TEST_CASE("the server answers the contract's 2019-04-09 USD example over TLS")
{
    local_server server(test_params());
    auto reply = https_request(server.port(), server.certificate_pem(), "/rates?base=USD&date=2019-04-09");
    CHECK(reply.status == 200);
    CHECK(reply.header("content-type") == "application/json");
    auto value = decoded(reply);
    CHECK(value.values.size() == 33);
    CHECK(value.values.at(fxrates::currency_code("EUR")) == 0.886761);
    CHECK(value.values.at(fxrates::currency_code("USD")) == 1.0);
    CHECK(value.values.at(fxrates::currency_code("JPY")) == 111.297331);
    CHECK(value.values.at(fxrates::currency_code("CZK")) == 22.717035);
}

TEST_CASE("every error row of the contract gets its status and detail text")
{
    struct row
    {
        const char* target;
        unsigned status;
        const char* body;
    };
    const row rows[] = {
        {"/rates?base=XYZ", 400, R"({"detail":"Base currency 'XYZ' is not supported."})"},
        {"/rates?base=usd", 400, R"({"detail":"Base currency 'usd' is not supported."})"},
        {"/rates?base=", 400, R"({"detail":"Base currency '' is not supported."})"},
        {"/rates?symbols=USD,XYZ", 400, R"({"detail":"Currency 'XYZ' is not supported."})"},
        {"/rates?symbols=USD,%20GBP", 400, R"({"detail":"Currency ' GBP' is not supported."})"},
        {"/rates?symbols=USD,", 400, R"({"detail":"Currency '' is not supported."})"},
        {"/rates?date=abc", 400, R"({"detail":"Invalid date format: 'abc'. Expected format: YYYY-MM-DD"})"},
        {"/rates?date=2024-02-30", 400,
         R"({"detail":"Invalid date: '2024-02-30'. Expected a valid date in YYYY-MM-DD format."})"},
        {"/rates?base=HRK&date=2024-01-05", 400,
         R"({"detail":"Base currency 'HRK' not available in current rates data"})"},
        {"/rates?date=1998-12-31", 404, R"({"detail":"No rate data available for the specified date."})"},
        {"/nowhere", 404, R"({"detail":"Not Found"})"},
    };
    local_server server(test_params());
    tls_connection connection(server.port(), server.certificate_pem());
    for (const auto& expected : rows)
    {
        CAPTURE(expected.target);
        auto reply = connection.request("GET", expected.target);
        CHECK(reply.status == expected.status);
        CHECK(reply.body == expected.body);
        CHECK(reply.header("content-type") == "application/json");
    }
}

TEST_CASE("weekends, future dates and the symbols filter behave as the contract says")
{
    local_server server(test_params());
    tls_connection connection(server.port(), server.certificate_pem());

    auto weekend = connection.request("GET", "/rates?base=USD&symbols=EUR,GBP,JPY&date=2018-10-13");
    CHECK(weekend.body == R"({"date":"2018-10-12","base":"USD","rates":{"EUR":0.864006,"JPY":112.312079,"GBP":0.757214}})");

    auto future = connection.request("GET", "/rates?date=2030-01-01&symbols=USD");
    CHECK(future.status == 200);
    CHECK(future.body == R"({"date":"2026-04-13","base":"EUR","rates":{"USD":1.1684}})");

    auto today = connection.request("GET", "/rates?symbols=USD");
    CHECK(today.body == future.body);

    auto nothing_that_day = connection.request("GET", "/rates?base=USD&symbols=HRK&date=2024-01-05");
    CHECK(nothing_that_day.status == 200);
    CHECK(nothing_that_day.body == R"({"date":"2024-01-05","base":"USD","rates":{}})");
}

TEST_CASE("other methods get 405 with Allow, HEAD gets the headers only, /currencies lists 33 codes")
{
    local_server server(test_params());
    tls_connection connection(server.port(), server.certificate_pem());

    auto post = connection.request("POST", "/rates", "Content-Length: 0\r\n");
    CHECK(post.status == 405);
    CHECK(post.body == R"({"detail":"Method Not Allowed"})");
    CHECK(post.header("allow") == "GET, HEAD");

    auto head = connection.request("HEAD", "/rates?base=USD");
    CHECK(head.status == 200);
    CHECK(head.body.empty());
    CHECK(std::stoul(head.header("content-length")) > 100);

    auto currencies = connection.request("GET", "/currencies");
    fxrates::currency_list list;
    fxrates::diagnostics diag;
    REQUIRE_FALSE(fxrates::decode_currencies(currencies.body, list, diag));
    CHECK(list.size() == 33);
    CHECK(list.front().code == fxrates::currency_code("EUR"));
}

TEST_CASE("one keep-alive connection serves many requests")
{
    local_server server(test_params());
    tls_connection connection(server.port(), server.certificate_pem());
    for (int i = 0; i < 5; ++i)
    {
        auto reply = connection.request("GET", "/rates?base=NOK");
        CHECK(reply.status == 200);
        CHECK(reply.keep_alive);
    }
    CHECK(server.requests_served() == 5);

    auto last = connection.request("GET", "/rates", "Connection: close\r\n");
    CHECK(last.status == 200);
    CHECK_FALSE(last.keep_alive);
    CHECK(connection.wait_until_closed_by_server());
}

TEST_CASE("over the rate limit the server answers 429 with Retry-After and the limit headers")
{
    auto params = test_params();
    params.rate_limit = 2;
    params.burst = 4;
    local_server server(params);
    tls_connection connection(server.port(), server.certificate_pem());

    // The burst is allowed at once; the next request in the same instant is not. (Four requests
    // take far less than the 0.5 s that would earn another token.)
    for (int i = 0; i < 4; ++i)
        CHECK(connection.request("GET", "/rates?base=USD").status == 200);
    auto limited = connection.request("GET", "/rates?base=USD");
    CHECK(limited.status == 429);
    CHECK(limited.body == R"({"detail":"Rate limit exceeded. Try again in 1 seconds.","retry_after":1})");
    CHECK(limited.header("retry-after") == "1");
    CHECK(limited.header("x-ratelimit-limit") == "2");
    CHECK(limited.header("x-ratelimit-burst") == "4");
    CHECK(limited.keep_alive);
}

TEST_CASE("garbage inside TLS gets 400 and a closed connection, and other clients are not disturbed")
{
    local_server server(test_params());
    tls_connection bystander(server.port(), server.certificate_pem());
    tls_connection vandal(server.port(), server.certificate_pem());

    vandal.write_raw("\x01\x02 this is not HTTP \xff\r\n\r\n");
    auto reply = vandal.read_reply();
    CHECK(reply.status == 400);
    CHECK(vandal.wait_until_closed_by_server());

    CHECK(bystander.request("GET", "/rates?base=USD").status == 200);
}

TEST_CASE("a 1 MB header line gets 431 or a closed connection, and other clients are not disturbed")
{
    local_server server(test_params());
    tls_connection bystander(server.port(), server.certificate_pem());
    tls_connection vandal(server.port(), server.certificate_pem());

    std::string huge = "GET /rates HTTP/1.1\r\nHost: localhost\r\nX-Big: " + std::string(1 << 20, 'a') + "\r\n\r\n";
    // Either answer is right: a 431 and then a close, or a reset while we are still writing or
    // reading (the server closed with our unread bytes pending, so the kernel sends RST).
    try
    {
        vandal.write_raw(huge);
        auto reply = vandal.read_reply();
        CHECK(reply.status == 431);
        CHECK(vandal.wait_until_closed_by_server());
    }
    catch (const boost::system::system_error& e)
    {
        CAPTURE(e.code().message());
        CHECK((e.code() == boost::asio::error::connection_reset || e.code() == boost::asio::error::broken_pipe ||
               e.code() == boost::asio::error::eof));
    }
    CHECK(bystander.request("GET", "/rates?base=USD").status == 200);
}

TEST_CASE("plain HTTP on the TLS port is refused with a closed connection")
{
    local_server server(test_params());
    CHECK(fxrates::test::plain_tcp_write_then_closed(server.port(), "GET /rates HTTP/1.1\r\nHost: x\r\n\r\n"));
    CHECK(https_request(server.port(), server.certificate_pem(), "/rates").status == 200);
}

TEST_CASE("a client that never finishes its request is disconnected after the request timeout")
{
    auto params = test_params();
    params.request_timeout = 200ms;
    local_server server(params);
    tls_connection slowpoke(server.port(), server.certificate_pem());
    slowpoke.write_raw("GET /rates?base=USD HTTP/1.1\r\nHost: loc");

    // Served meanwhile: one slow client holds up no one.
    CHECK(https_request(server.port(), server.certificate_pem(), "/rates").status == 200);
    CHECK(slowpoke.wait_until_closed_by_server());
}

TEST_CASE("latency is added per response without holding up other connections")
{
    auto params = test_params();
    params.latency = 300ms;
    local_server server(params);
    // 20 connections at once: served one after another this would take 6 s, past the deadline.
    auto ok = fxrates::test::concurrent_keep_alive_gets(server.port(), server.certificate_pem(), "/rates?base=USD",
                                                        20, 1, 3000ms);
    CHECK(ok == 20);
}

TEST_CASE("the server serves 1,000 concurrent keep-alive connections")
{
    local_server server(test_params());
    auto ok = fxrates::test::concurrent_keep_alive_gets(server.port(), server.certificate_pem(), "/rates?base=USD",
                                                        1000, 2, 60s);
    CHECK(ok == 2000);
    CHECK(server.requests_served() == 2000);
}

TEST_CASE("stop closes idle keep-alive connections and returns promptly")
{
    local_server server(test_params());
    tls_connection idle(server.port(), server.certificate_pem());
    CHECK(idle.request("GET", "/rates").status == 200);

    auto stopped = std::async(std::launch::async, [&] { server.stop(); });
    REQUIRE(stopped.wait_for(5s) == std::future_status::ready);
    CHECK(idle.wait_until_closed_by_server());
}

TEST_CASE("the server's certificate verifies for localhost but not for another host name")
{
    local_server server(test_params());
    CHECK_NOTHROW(tls_connection(server.port(), server.certificate_pem(), "localhost"));
    CHECK_THROWS_AS(tls_connection(server.port(), server.certificate_pem(), "example.com"),
                    boost::system::system_error);
}
