#include <fxrates/token_bucket.hpp>

#include "support/manual_clock.hpp"

#include <doctest/doctest.h>

#include <vector>

using fxrates::test::manual_clock;
using bucket_type = fxrates::token_bucket<manual_clock>;
using namespace std::chrono_literals;

namespace {

// Serves `count` requests of one token each as early as the bucket allows; returns the grant times.
std::vector<manual_clock::duration> schedule(bucket_type& bucket, int count, manual_clock::time_point& now)
{
    std::vector<manual_clock::duration> grants;
    while (static_cast<int>(grants.size()) < count)
    {
        auto decision = bucket.try_acquire(1, now);
        if (decision.granted)
            grants.push_back(now.time_since_epoch());
        else
            now += decision.wait; // jump straight to when it is due: nothing else happens meanwhile
    }
    return grants;
}

} // namespace

TEST_CASE("at 10 per second, 50 requests are granted at exactly 0.1, 0.2, ... 5.0 s")
{
    manual_clock::time_point now{};
    bucket_type bucket(10, 10, now);
    auto grants = schedule(bucket, 50, now);
    REQUIRE(grants.size() == 50);
    for (int i = 0; i < 50; ++i)
    {
        CAPTURE(i);
        CHECK(grants[i] == 100ms * (i + 1));
    }
}

TEST_CASE("reservations made at one instant are served one interval apart, in the order made")
{
    manual_clock::time_point now{};
    bucket_type bucket(10, 1, now);
    std::vector<manual_clock::duration> at;
    for (int i = 0; i < 4; ++i)
        at.push_back(bucket.reserve(1, now).time_since_epoch());
    CHECK(at == std::vector<manual_clock::duration>{100ms, 200ms, 300ms, 400ms});
    // The bucket is spoken for until 0.4 s: a request then waits for the next token.
    now += 400ms;
    CHECK_FALSE(bucket.try_acquire(1, now).granted);
    // After an idle spell, a reservation is for now.
    now += 10s;
    CHECK(bucket.reserve(1, now) == now);
}

TEST_CASE("the bucket starts empty: no burst at start")
{
    manual_clock::time_point now{};
    bucket_type bucket(5, 5, now);
    auto decision = bucket.try_acquire(1, now);
    CHECK_FALSE(decision.granted);
    CHECK(decision.wait == 200ms);
}

TEST_CASE("a burst larger than the rate is served at once after enough idle time")
{
    manual_clock::time_point now{};
    bucket_type bucket(2, 6, now);
    now += 10s; // long enough to fill 6 tokens, and more
    for (int i = 0; i < 6; ++i)
        CHECK(bucket.try_acquire(1, now).granted);
    auto seventh = bucket.try_acquire(1, now);
    CHECK_FALSE(seventh.granted);
    CHECK(seventh.wait == 500ms);
}

TEST_CASE("a long idle never over-fills the bucket")
{
    manual_clock::time_point now{};
    bucket_type bucket(10, 3, now);
    now += 24h;
    for (int i = 0; i < 3; ++i)
        CHECK(bucket.try_acquire(1, now).granted);
    CHECK_FALSE(bucket.try_acquire(1, now).granted);
}

TEST_CASE("the default capacity is one second's worth")
{
    manual_clock::time_point now{};
    bucket_type bucket(4, now);
    now += 1h;
    for (int i = 0; i < 4; ++i)
        CHECK(bucket.try_acquire(1, now).granted);
    CHECK_FALSE(bucket.try_acquire(1, now).granted);

    bucket_type slow(0.5, now); // less than one per second still holds one token
    now += 1h;
    CHECK(slow.try_acquire(1, now).granted);
    CHECK_FALSE(slow.try_acquire(1, now).granted);
}

TEST_CASE("fractional refill: a token that is 70% there waits for the remaining 30%")
{
    manual_clock::time_point now{};
    bucket_type bucket(10, 10, now);
    now += 70ms;
    auto decision = bucket.try_acquire(1, now);
    CHECK_FALSE(decision.granted);
    CHECK(decision.wait == 30ms);
    now += 30ms;
    CHECK(bucket.try_acquire(1, now).granted);
}

TEST_CASE("a request for several tokens waits for all of them and takes them all")
{
    manual_clock::time_point now{};
    bucket_type bucket(10, 10, now);
    now += 100ms;
    auto decision = bucket.try_acquire(3, now);
    CHECK_FALSE(decision.granted);
    CHECK(decision.wait == 200ms);
    now += 200ms;
    CHECK(bucket.try_acquire(3, now).granted);
    CHECK(bucket.try_acquire(1, now).wait == 100ms);
}

TEST_CASE("more tokens than the capacity can never be granted, and says so")
{
    manual_clock::time_point now{};
    bucket_type bucket(10, 2, now);
    CHECK_FALSE(bucket.can_ever_grant(3));
    CHECK(bucket.can_ever_grant(2));
    CHECK_THROWS_AS(bucket.try_acquire(3, now), std::invalid_argument);
}

TEST_CASE("a pause grants nothing before its end, and one token at its end")
{
    manual_clock::time_point now{};
    bucket_type bucket(10, 10, now);
    now += 5s; // full
    bucket.pause_until(now + 2s);
    auto decision = bucket.try_acquire(1, now);
    CHECK_FALSE(decision.granted);
    CHECK(decision.wait == 2s);
    now += 2s;
    CHECK(bucket.try_acquire(1, now).granted);
    CHECK(bucket.try_acquire(1, now).wait == 100ms);
}

TEST_CASE("rates and capacities out of range are refused")
{
    manual_clock::time_point now{};
    CHECK_THROWS_AS(bucket_type(0, 1, now), std::invalid_argument);
    CHECK_THROWS_AS(bucket_type(-1, 1, now), std::invalid_argument);
    CHECK_THROWS_AS(bucket_type(10, 0.5, now), std::invalid_argument);
    // Beyond what the clock's integers can hold, refused rather than wrapped round.
    CHECK_THROWS_AS(bucket_type(1e-11, 1, now), std::invalid_argument);
    CHECK_THROWS_AS(bucket_type(1, 1e10, now), std::invalid_argument);
    CHECK_THROWS_AS(bucket_type(1, 1e300, now), std::invalid_argument);
}

TEST_CASE("a huge request at a slow rate is refused, not granted by an overflow")
{
    manual_clock::time_point now{};
    bucket_type bucket(0.1, 1, now); // one token every 10 s, at most one kept
    CHECK_FALSE(bucket.can_ever_grant(1'000'000'000));
    CHECK_THROWS_AS(bucket.try_acquire(1'000'000'000, now), std::invalid_argument);
    CHECK(bucket.ready_at(1'000'000'000, now) == manual_clock::time_point::max());
}

TEST_CASE("a pause until the end of time holds every request and overflows nothing")
{
    manual_clock::time_point now{};
    bucket_type bucket(10, 10, now);
    now += 5s;
    bucket.pause_until(manual_clock::time_point::max());
    for (unsigned n : {1u, 2u, 10u})
    {
        CAPTURE(n);
        auto decision = bucket.try_acquire(n, now);
        CHECK_FALSE(decision.granted);
        CHECK(decision.wait > std::chrono::hours(24 * 365));
    }
    bucket.resume(now);
    now += 1s;
    CHECK(bucket.try_acquire(10, now).granted);
}
