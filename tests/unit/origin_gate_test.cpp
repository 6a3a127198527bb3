// The gate that a strategy's threads share to keep the client's limits per origin together. The
// waits here end by an event (a leave, a stop) or at a deadline already past; a hang fails at a
// hard limit.

#include "lab/origin_gate.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <stop_token>

using fxrates::client_params;
using fxrates::detail::origin;
using fxrates::detail::origin_gate;
using entry = origin_gate::entry;
using namespace std::chrono_literals;

namespace {

const origin first{"https", "a.example", 443};
const origin second{"https", "b.example", 443};
const auto past = std::chrono::steady_clock::now() - 1h;
const auto never = std::chrono::steady_clock::time_point::max();

client_params two_per_origin()
{
    client_params params;
    params.max_connections_per_origin = 2;
    return params;
}

} // namespace

TEST_CASE("the gate lets an origin's limit in at once, holds the next, and other origins are not held")
{
    auto params = two_per_origin();
    std::stop_source stop;
    origin_gate gate(params, stop.get_token());
    CHECK(gate.enter(first, never) == entry::granted);
    CHECK(gate.enter(first, never) == entry::granted);
    CHECK(gate.enter(first, past) == entry::timed_out); // full: the deadline passed waiting
    CHECK(gate.enter(second, past) == entry::granted);
    gate.leave(first);
    CHECK(gate.enter(first, past) == entry::granted);
}

TEST_CASE("a thread waiting at the gate goes in when another leaves, and a stop ends every wait")
{
    auto params = two_per_origin();
    params.max_connections_per_origin = 1;
    std::stop_source stop;
    origin_gate gate(params, stop.get_token());
    REQUIRE(gate.enter(first, never) == entry::granted);
    auto waiting = std::async(std::launch::async, [&] { return gate.enter(first, never); });
    gate.leave(first);
    REQUIRE(waiting.wait_for(20s) == std::future_status::ready);
    CHECK(waiting.get() == entry::granted);

    auto stopped = std::async(std::launch::async, [&] { return gate.enter(first, never); });
    stop.request_stop();
    REQUIRE(stopped.wait_for(20s) == std::future_status::ready);
    CHECK(stopped.get() == entry::stopped);
    CHECK(gate.enter(second, never) == entry::stopped); // after a stop, nothing waits
}

TEST_CASE("with a rate, a stop ends a wait for the origin's pace")
{
    auto params = two_per_origin();
    params.rate = 0.001; // one request in 1,000 s: the pace starts empty, so the first waits
    std::stop_source stop;
    origin_gate gate(params, stop.get_token());
    auto waiting = std::async(std::launch::async, [&] { return gate.enter(first, never); });
    stop.request_stop();
    REQUIRE(waiting.wait_for(20s) == std::future_status::ready);
    CHECK(waiting.get() == entry::stopped);
}
