// The blocking throttle with real threads on virtual time: threads sleep on the throttle's real
// condition variable, but the bucket reads a manual clock that only the test moves, so which grants
// are due at each moment is exact. What is checked is order and counts; nothing waits on the wall
// clock except the hard deadlines that turn a hang into a failure.

#include <fxrates/blocking_throttle.hpp>

#include "support/manual_clock.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

using fxrates::test::manual_clock;
using virtual_blocking_throttle = fxrates::basic_blocking_throttle<manual_clock>;
using namespace std::chrono_literals;

namespace {

// Waits for other threads to make `condition` true; false if they have not within 10 s.
template <class Condition>
bool eventually(Condition condition)
{
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!condition())
    {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::yield();
    }
    return true;
}

// Moves virtual time on and wakes the waiters so that they look at the clock again. (A pause that
// ended before the test began changes nothing but the wake-up.)
void move_time(virtual_blocking_throttle& throttle, manual_clock::duration by)
{
    manual_clock::advance(by);
    throttle.pause_until(manual_clock::time_point{});
}

} // namespace

TEST_CASE("threads are served in the order they arrived, one per token")
{
    manual_clock::reset();
    virtual_blocking_throttle throttle(10, 1); // a token every 100 ms, none stored at start

    std::mutex order_mutex;
    std::vector<int> order;
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i)
    {
        threads.emplace_back([&, i] {
            CHECK(throttle.acquire());
            std::lock_guard lock(order_mutex);
            order.push_back(i);
        });
        // This thread holds its ticket before the next one starts: arrival order is known.
        REQUIRE(eventually([&] { return throttle.waiting() == static_cast<std::size_t>(i + 1); }));
    }
    auto recorded = [&] {
        std::lock_guard lock(order_mutex);
        return order.size();
    };
    for (std::size_t k = 1; k <= 8; ++k)
    {
        move_time(throttle, 100ms); // one more token
        REQUIRE(eventually([&] { return recorded() == k; }));
    }
    for (auto& thread : threads)
        thread.join();
    REQUIRE(order.size() == 8);
    for (int i = 0; i < 8; ++i)
        CHECK(order[i] == i);
}

TEST_CASE("many threads share the bucket: each token is granted once, and never early")
{
    manual_clock::reset();
    virtual_blocking_throttle throttle(10, 1);
    constexpr int count = 40;
    std::atomic<int> granted{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < count; ++i)
        threads.emplace_back([&] {
            if (throttle.acquire())
                ++granted;
        });
    // The bucket starts empty: nobody is served until time moves.
    REQUIRE(eventually([&] { return throttle.waiting() == static_cast<std::size_t>(count); }));
    CHECK(granted == 0);
    for (int k = 1; k <= count; ++k)
    {
        CAPTURE(k);
        move_time(throttle, 100ms);
        // Exactly one more grant per token: a second one would leave `waiting` one lower for good.
        REQUIRE(eventually([&] {
            return granted == k && throttle.waiting() == static_cast<std::size_t>(count - k);
        }));
    }
    for (auto& thread : threads)
        thread.join();
    CHECK(granted == count);
    CHECK(throttle.waiting() == 0);
}

TEST_CASE("a burst is served at once after idle time, and no more than the burst")
{
    manual_clock::reset();
    virtual_blocking_throttle throttle(10, 5);
    manual_clock::advance(10s); // idle long: the bucket is full, with 5 tokens, not 100
    for (int i = 0; i < 5; ++i)
        CHECK(throttle.acquire()); // there already: no wait
    std::atomic<bool> sixth{false};
    std::thread late([&] { sixth = throttle.acquire(); });
    REQUIRE(eventually([&] { return throttle.waiting() == 1; }));
    CHECK_FALSE(sixth);
    move_time(throttle, 100ms);
    late.join();
    CHECK(sixth);
}

TEST_CASE("a thread that gives up at its deadline takes nothing, and the next one takes the token")
{
    manual_clock::reset();
    virtual_blocking_throttle throttle(10, 1);
    using result = virtual_blocking_throttle::acquire_result;
    std::atomic<int> first{-1}, second{-1}, third{-1};
    // The first waits at the head of the queue; the second gives up before its turn comes; the
    // third is behind both.
    std::thread head([&] { first = static_cast<int>(throttle.acquire_until(manual_clock::time_point(150ms))); });
    REQUIRE(eventually([&] { return throttle.waiting() == 1; }));
    std::thread middle([&] { second = static_cast<int>(throttle.acquire_until(manual_clock::time_point(50ms))); });
    REQUIRE(eventually([&] { return throttle.waiting() == 2; }));
    std::thread tail([&] { third = throttle.acquire() ? 1 : 0; });
    REQUIRE(eventually([&] { return throttle.waiting() == 3; }));

    move_time(throttle, 60ms); // past the middle one's deadline, before any token
    REQUIRE(eventually([&] { return second != -1 && throttle.waiting() == 2; }));
    CHECK(second == static_cast<int>(result::timed_out));
    move_time(throttle, 40ms); // 100 ms: the head's token
    REQUIRE(eventually([&] { return first != -1 && throttle.waiting() == 1; }));
    CHECK(first == static_cast<int>(result::granted));
    CHECK(third == -1);
    move_time(throttle, 100ms); // 200 ms: the next token goes to the tail, skipping the ticket left behind
    REQUIRE(eventually([&] { return third != -1; }));
    CHECK(third == 1);
    head.join();
    middle.join();
    tail.join();
    CHECK(throttle.waiting() == 0);
}

TEST_CASE("a head that gives up at its deadline leaves the token for the one behind it")
{
    manual_clock::reset();
    virtual_blocking_throttle throttle(10, 1);
    using result = virtual_blocking_throttle::acquire_result;
    std::atomic<int> first{-1}, second{-1};
    std::thread head([&] { first = static_cast<int>(throttle.acquire_until(manual_clock::time_point(50ms))); });
    REQUIRE(eventually([&] { return throttle.waiting() == 1; }));
    std::thread behind([&] { second = throttle.acquire() ? 1 : 0; });
    REQUIRE(eventually([&] { return throttle.waiting() == 2; }));
    move_time(throttle, 60ms);
    REQUIRE(eventually([&] { return first != -1; }));
    CHECK(first == static_cast<int>(result::timed_out));
    CHECK(second == -1);
    move_time(throttle, 40ms); // 100 ms: the first token, untouched by the one that gave up
    REQUIRE(eventually([&] { return second != -1; }));
    CHECK(second == 1);
    head.join();
    behind.join();
}

TEST_CASE("closing wakes every waiting thread, and acquire reports it")
{
    manual_clock::reset();
    virtual_blocking_throttle throttle(1, 1);
    throttle.pause_until(manual_clock::time_point::max()); // held for ever, but for the close
    std::atomic<int> refused{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&] {
            if (!throttle.acquire())
                ++refused;
        });
    REQUIRE(eventually([&] { return throttle.waiting() == 4; }));
    throttle.close();
    for (auto& thread : threads)
        thread.join();
    CHECK(refused == 4);
}
