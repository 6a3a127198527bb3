// The gate that a strategy's threads share to keep the client's limits per origin together. The
// waits here end by an event (a leave, a stop) or at a deadline already past; a hang fails at a
// hard limit.

#include "lab/origin_gate.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

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

// Whether `condition` comes true within a hard limit of 20 s (threads move on their own time).
template <class Condition>
bool eventually(Condition condition)
{
    const auto limit = std::chrono::steady_clock::now() + 20s;
    while (!condition())
    {
        if (std::chrono::steady_clock::now() > limit)
            return false;
        std::this_thread::yield();
    }
    return true;
}

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
    CHECK(gate.enter(first, 0, never) == entry::granted);
    CHECK(gate.enter(first, 1, never) == entry::granted);
    CHECK(gate.enter(first, 2, past) == entry::timed_out); // full: the deadline passed waiting
    CHECK(gate.enter(second, 3, past) == entry::granted);
    gate.leave(first);
    CHECK(gate.enter(first, 2, past) == entry::granted);
}

TEST_CASE("a thread waiting at the gate goes in when another leaves, and a stop ends every wait")
{
    auto params = two_per_origin();
    params.max_connections_per_origin = 1;
    std::stop_source stop;
    origin_gate gate(params, stop.get_token());
    REQUIRE(gate.enter(first, 0, never) == entry::granted);
    auto waiting = std::async(std::launch::async, [&] { return gate.enter(first, 1, never); });
    gate.leave(first);
    REQUIRE(waiting.wait_for(20s) == std::future_status::ready);
    CHECK(waiting.get() == entry::granted);

    auto stopped = std::async(std::launch::async, [&] { return gate.enter(first, 2, never); });
    stop.request_stop();
    REQUIRE(stopped.wait_for(20s) == std::future_status::ready);
    CHECK(stopped.get() == entry::stopped);
    CHECK(gate.enter(second, 3, never) == entry::stopped); // after a stop, nothing waits
}

TEST_CASE("with a rate, a stop ends a wait for the origin's pace")
{
    auto params = two_per_origin();
    params.rate = 0.001; // one request in 1,000 s: the pace starts empty, so the first waits
    std::stop_source stop;
    origin_gate gate(params, stop.get_token());
    auto waiting = std::async(std::launch::async, [&] { return gate.enter(first, 0, never); });
    stop.request_stop();
    REQUIRE(waiting.wait_for(20s) == std::future_status::ready);
    CHECK(waiting.get() == entry::stopped);
}

TEST_CASE("an origin's items go in input order, whatever order their threads came in")
{
    auto params = two_per_origin();
    params.max_connections_per_origin = 1;
    std::stop_source stop;
    origin_gate gate(params, stop.get_token());
    REQUIRE(gate.enter(first, 0, never) == entry::granted);
    std::mutex order_lock;
    std::vector<std::size_t> order;
    auto go = [&](std::size_t index) {
        return std::async(std::launch::async, [&, index] {
            auto result = gate.enter(first, index, never);
            std::lock_guard hold(order_lock);
            order.push_back(index);
            return result;
        });
    };
    // Items 3, 1, 2 arrive in that order, each waiting before the next comes.
    std::vector<std::future<entry>> waiting;
    for (std::size_t index : {3, 1, 2})
    {
        waiting.push_back(go(index));
        REQUIRE(eventually([&] { return gate.waiting(first) == waiting.size(); }));
    }
    // Each leave lets exactly the earliest waiting item in.
    for (std::size_t round = 0; round < 3; ++round)
    {
        gate.leave(first);
        REQUIRE(eventually([&] {
            std::lock_guard hold(order_lock);
            return order.size() == round + 1;
        }));
    }
    for (auto& each : waiting)
    {
        REQUIRE(each.wait_for(20s) == std::future_status::ready);
        CHECK(each.get() == entry::granted);
    }
    CHECK(order == std::vector<std::size_t>{1, 2, 3});
}
