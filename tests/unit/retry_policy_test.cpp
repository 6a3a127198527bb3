#include <fxrates/retry_policy.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

using fxrates::make_http_error;
using fxrates::retry_policy;
using namespace std::chrono_literals;

TEST_CASE("connection failures, timeouts, 429 and 502-504 are retried; other answers are not")
{
    namespace asio = boost::asio;
    for (auto error : {make_http_error(429), make_http_error(502), make_http_error(503), make_http_error(504),
                       fxrates::error_code(asio::error::connection_refused),
                       fxrates::error_code(asio::error::connection_reset),
                       fxrates::error_code(boost::beast::error::timeout),
                       fxrates::error_code(asio::ssl::error::stream_truncated)})
    {
        CAPTURE(error.message());
        CHECK(retry_policy::is_retryable(error));
    }
    for (auto error : {make_http_error(400), make_http_error(404), make_http_error(500),
                       fxrates::error_code(fxrates::errc::bad_response),
                       fxrates::error_code(fxrates::errc::batch_deadline),
                       fxrates::error_code(asio::error::operation_aborted), fxrates::error_code{}})
    {
        CAPTURE(error.message());
        CHECK_FALSE(retry_policy::is_retryable(error));
    }
}

TEST_CASE("full jitter: the delay is a random share of an exponentially growing cap")
{
    fxrates::retry_params params;
    params.max_attempts = 10;
    params.base_delay = 100ms;
    params.max_delay = 1s;
    retry_policy policy(params);
    auto transient = make_http_error(503);
    CHECK(policy.after_failure(1, transient, std::nullopt, 0.5).delay == 50ms);
    CHECK(policy.after_failure(2, transient, std::nullopt, 0.5).delay == 100ms);
    CHECK(policy.after_failure(3, transient, std::nullopt, 0.5).delay == 200ms);
    CHECK(policy.after_failure(3, transient, std::nullopt, 0.0).delay == 0ms);
    CHECK(policy.after_failure(9, transient, std::nullopt, 0.5).delay == 500ms); // capped at 1 s
    CHECK(policy.after_failure(9, transient, std::nullopt, 0.5).retry);
}

TEST_CASE("attempts stop at the maximum, and a non-retryable error stops at once")
{
    retry_policy policy({.max_attempts = 3});
    CHECK(policy.after_failure(2, make_http_error(503), std::nullopt, 0.5).retry);
    CHECK_FALSE(policy.after_failure(3, make_http_error(503), std::nullopt, 0.5).retry);
    CHECK_FALSE(policy.after_failure(1, make_http_error(400), std::nullopt, 0.5).retry);
}

TEST_CASE("a Retry-After is honoured up to the cap, and a longer one is not waited for")
{
    fxrates::retry_params params;
    params.max_retry_after = 10s;
    retry_policy policy(params);
    auto honoured = policy.after_failure(1, make_http_error(429), std::chrono::seconds(3), 0.9);
    CHECK(honoured.retry);
    CHECK(honoured.delay == 3s);
    CHECK_FALSE(policy.after_failure(1, make_http_error(429), std::chrono::seconds(60), 0.9).retry);
}

TEST_CASE("the retry budget is a share of the batch, at least one, and none when the share is zero")
{
    fxrates::retry_budget budget(0.2, 10);
    CHECK(budget.try_spend());
    CHECK(budget.try_spend());
    CHECK_FALSE(budget.try_spend());
    fxrates::retry_budget small(0.2, 3);
    CHECK(small.left() == 1);
    fxrates::retry_budget none(0, 100);
    CHECK_FALSE(none.try_spend());
}

TEST_CASE("a batch of unknown size earns retries as its requests start")
{
    fxrates::retry_budget budget(0.1, 0, 2);
    CHECK(budget.left() == 2); // what one request may make on its own, from the start
    CHECK(budget.try_spend());
    for (int i = 0; i < 30; ++i)
        budget.add_request();
    CHECK(budget.left() == 2); // 10% of 30 = 3, one spent
    CHECK(budget.try_spend());
    CHECK(budget.try_spend());
    CHECK_FALSE(budget.try_spend());
    for (int i = 0; i < 10; ++i)
        budget.add_request();
    CHECK(budget.left() == 1);
}

TEST_CASE("Retry-After is read as seconds or as an HTTP date, and anything else is ignored")
{
    using std::chrono::seconds;
    auto now = std::chrono::system_clock::from_time_t(1795000000); // 2026-11-18 11:06:40 UTC
    CHECK(fxrates::parse_retry_after("3", now) == seconds(3));
    CHECK(fxrates::parse_retry_after("0", now) == seconds(0));
    CHECK(fxrates::parse_retry_after("Wed, 18 Nov 2026 11:06:45 GMT", now) == seconds(5));
    CHECK(fxrates::parse_retry_after("Wed, 18 Nov 2026 07:00:00 GMT", now) == seconds(0)); // already past
    CHECK_FALSE(fxrates::parse_retry_after("", now));
    CHECK_FALSE(fxrates::parse_retry_after("-1", now));
    CHECK_FALSE(fxrates::parse_retry_after("soon", now));
    // Waits beyond any real one are the cap (a day), never "no Retry-After", and never overflow.
    CHECK(fxrates::parse_retry_after("9999999999", now) == seconds(86400));
    CHECK(fxrates::parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now) == seconds(86400));
    CHECK(fxrates::parse_retry_after("Mon, 01 Jan 1200 00:00:00 GMT", now) == seconds(0));
    CHECK_FALSE(fxrates::parse_retry_after("Wed, 18 Nov 2026 11:06:45 GMT trailing", now));
}

TEST_CASE("a budget of exactly N retries grants N, however many requests join it")
{
    fxrates::retry_budget share(fxrates::retry_budget::exactly{2});
    for (int k = 0; k < 100; ++k)
        share.add_request();
    CHECK(share.try_spend());
    CHECK(share.try_spend());
    CHECK_FALSE(share.try_spend());
    fxrates::retry_budget none(fxrates::retry_budget::exactly{0});
    CHECK_FALSE(none.try_spend());
}

TEST_CASE("a fixed budget refilled holds the new grant, whatever it held or spent before")
{
    fxrates::retry_budget grant(fxrates::retry_budget::exactly{1});
    CHECK(grant.try_spend());
    grant.refill(2);
    CHECK(grant.left() == 2);
    CHECK(grant.try_spend());
    grant.refill(0);
    CHECK(grant.left() == 0);
    CHECK_FALSE(grant.try_spend());
    grant.refill(3);
    CHECK(grant.left() == 3);
}

TEST_CASE("a budget shared by threads grants exactly what it holds, however they race")
{
    fxrates::retry_budget shared(0.1, 1000); // 100 retries
    std::atomic<int> granted = 0;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int k = 0; k < 1000; ++k)
                if (shared.try_spend())
                    ++granted;
        });
    for (auto& thread : threads)
        thread.join();
    CHECK(granted == 100);
    CHECK(shared.left() == 0);
}
