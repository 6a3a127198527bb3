#include "server/rate_limiter.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace
{

using fxrates::detail::rate_limiter;
using time_point = rate_limiter::clock::time_point;

// A fixed origin, far from zero so that nothing depends on the epoch; never the real clock.
constexpr time_point start = time_point{} + std::chrono::hours(1000);

} // namespace

TEST_CASE("a client may send a whole burst at once, and the next request waits one interval")
{
    using namespace std::chrono_literals;
    struct setting
    {
        double rate;
        unsigned burst;
        rate_limiter::clock::duration interval;
    };
    for (const auto& s :
         {setting{2, 4, 500ms}, setting{10, 3, 100ms}, setting{1, 1, 1s}, setting{4, 10, 250ms}})
    {
        CAPTURE(s.rate);
        CAPTURE(s.burst);
        rate_limiter limiter(s.rate, s.burst);
        for (unsigned i = 0; i < s.burst; ++i)
        {
            CAPTURE(i);
            auto decision = limiter.check("client", start);
            CHECK(decision.allowed);
            CHECK(decision.retry_after == rate_limiter::clock::duration::zero());
        }
        auto denied = limiter.check("client", start);
        CHECK_FALSE(denied.allowed);
        CHECK(denied.retry_after == s.interval);

        // A denied request does not use up anything: asking again gives the same answer.
        auto again = limiter.check("client", start);
        CHECK_FALSE(again.allowed);
        CHECK(again.retry_after == s.interval);
    }
}

TEST_CASE("after one interval one more request is allowed, and only one")
{
    using namespace std::chrono_literals;
    rate_limiter limiter(2, 4);
    for (int i = 0; i < 4; ++i)
        REQUIRE(limiter.check("client", start).allowed);
    CHECK_FALSE(limiter.check("client", start + 499ms).allowed);
    CHECK(limiter.check("client", start + 499ms).retry_after == 1ms);
    CHECK(limiter.check("client", start + 500ms).allowed);
    auto denied = limiter.check("client", start + 500ms);
    CHECK_FALSE(denied.allowed);
    CHECK(denied.retry_after == 500ms);
}

TEST_CASE("retry_after says exactly when the next request will be allowed")
{
    using namespace std::chrono_literals;
    rate_limiter limiter(2, 4);
    for (int i = 0; i < 4; ++i)
        REQUIRE(limiter.check("client", start).allowed);
    auto now = start + 400ms;
    auto denied = limiter.check("client", now);
    REQUIRE_FALSE(denied.allowed);
    CHECK(denied.retry_after == 100ms);
    CHECK_FALSE(limiter.check("client", now + denied.retry_after - 1ns).allowed);
    CHECK(limiter.check("client", now + denied.retry_after).allowed);
}

TEST_CASE("a client that waited long enough has a full burst again")
{
    using namespace std::chrono_literals;
    rate_limiter limiter(2, 4);
    for (int i = 0; i < 4; ++i)
        REQUIRE(limiter.check("client", start).allowed);
    auto later = start + 1h;
    for (int i = 0; i < 4; ++i)
        CHECK(limiter.check("client", later).allowed);
    CHECK_FALSE(limiter.check("client", later).allowed);
}

TEST_CASE("clients are limited independently")
{
    rate_limiter limiter(2, 4);
    for (int i = 0; i < 4; ++i)
        REQUIRE(limiter.check("192.0.2.1", start).allowed);
    CHECK_FALSE(limiter.check("192.0.2.1", start).allowed);

    for (int i = 0; i < 4; ++i)
        CHECK(limiter.check("192.0.2.2", start).allowed);
    CHECK_FALSE(limiter.check("192.0.2.2", start).allowed);
    CHECK(limiter.check("2001:db8::1", start).allowed);
    CHECK(limiter.tracked_clients() == 3);
}

TEST_CASE("at the real API's 2 per second with a burst of 4, 10 requests per second for 10 s get 23 through")
{
    using namespace std::chrono_literals;
    rate_limiter limiter(2, 4);
    std::vector<int> allowed;
    for (int k = 0; k < 100; ++k)
    {
        auto decision = limiter.check("client", start + k * 100ms);
        if (decision.allowed)
            allowed.push_back(k);
        else
        {
            CAPTURE(k);
            CHECK(decision.retry_after > 0ms);
            CHECK(decision.retry_after <= 500ms);
        }
    }
    // The burst of 4 at once, the fifth at 0.5 s, then one every 0.5 s: 4 + 19 = 23.
    CHECK(allowed.size() == 23);
    std::vector<int> expected{0, 1, 2, 3, 5};
    for (int k = 10; k < 100; k += 5)
        expected.push_back(k);
    CHECK(allowed == expected);
}

TEST_CASE("idle clients are forgotten once more than 1024 are tracked")
{
    using namespace std::chrono_literals;
    rate_limiter limiter(2, 4);
    for (int i = 0; i < 1024; ++i)
        REQUIRE(limiter.check("client-" + std::to_string(i), start).allowed);
    CHECK(limiter.tracked_clients() == 1024);

    // Each of them is idle again 0.5 s later; the next new client triggers the clean-up.
    CHECK(limiter.check("newcomer", start + 2s).allowed);
    CHECK(limiter.tracked_clients() == 1);
}

TEST_CASE("a client that is still limited is not forgotten by the clean-up")
{
    using namespace std::chrono_literals;
    rate_limiter limiter(2, 4);
    for (int i = 0; i < 4; ++i)
        REQUIRE(limiter.check("busy", start).allowed);
    for (int i = 0; i < 1023; ++i)
        REQUIRE(limiter.check("client-" + std::to_string(i), start).allowed);
    REQUIRE(limiter.tracked_clients() == 1024);

    auto now = start + 600ms;
    CHECK(limiter.check("busy", now).allowed); // prunes the idle clients first
    CHECK(limiter.tracked_clients() == 1);
    auto denied = limiter.check("busy", now);
    CHECK_FALSE(denied.allowed);
    CHECK(denied.retry_after == 400ms);
}

TEST_CASE("a rate outside 0.001-1e6 per second, NaN or infinity is refused before any conversion")
{
    for (double rate : {1e-10, 0.0009, 0.0, -1.0, 1e6 + 1, std::nan(""), std::numeric_limits<double>::infinity()})
    {
        CAPTURE(rate);
        CHECK_THROWS_AS(rate_limiter(rate, 1), std::invalid_argument);
    }
    CHECK_THROWS_AS(rate_limiter(1, 1000001), std::invalid_argument);
    // The extremes themselves: one request per 1000 s with a burst of 10^6, and 10^6 a second.
    rate_limiter slow(0.001, 1000000);
    CHECK(slow.check("a", start).allowed);
    rate_limiter fast(1e6, 1);
    CHECK(fast.check("a", start).allowed);
}
