// The blocking throttle with real threads: what is checked is order and counts, never durations.

#include <fxrates/blocking_throttle.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

TEST_CASE("threads are served in the order they arrived, each exactly once")
{
    fxrates::blocking_throttle throttle(2000, 1);
    // Hold everyone back until all have arrived, so that arrival order is known.
    throttle.pause_until(std::chrono::steady_clock::now() + std::chrono::hours(1));

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
        // Wait for the event: this thread holds its ticket before the next one starts.
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (throttle.waiting() != static_cast<std::size_t>(i + 1) && std::chrono::steady_clock::now() < deadline)
            std::this_thread::yield();
        REQUIRE(throttle.waiting() == static_cast<std::size_t>(i + 1));
    }
    throttle.resume();
    for (auto& thread : threads)
        thread.join();
    REQUIRE(order.size() == 8);
    for (int i = 0; i < 8; ++i)
        CHECK(order[i] == i);
}

TEST_CASE("many threads share the bucket: every acquire is granted once, none twice")
{
    fxrates::blocking_throttle throttle(50000, 50);
    std::atomic<int> granted{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i)
        threads.emplace_back([&] {
            for (int k = 0; k < 50; ++k)
                if (throttle.acquire())
                    ++granted;
        });
    for (auto& thread : threads)
        thread.join();
    CHECK(granted == 400);
    CHECK(throttle.waiting() == 0);
}

TEST_CASE("closing wakes every waiting thread, and acquire reports it")
{
    fxrates::blocking_throttle throttle(1, 1);
    throttle.pause_until(std::chrono::steady_clock::now() + std::chrono::hours(1));
    std::atomic<int> refused{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&] {
            if (!throttle.acquire())
                ++refused;
        });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (throttle.waiting() != 4 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::yield();
    throttle.close();
    for (auto& thread : threads)
        thread.join();
    CHECK(refused == 4);
}
