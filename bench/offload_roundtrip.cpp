// Round trip of a trivial function through the offload bridge: post to a pool, run, and resume the
// awaiting coroutine on the event loop. Target (issue 4): median <= 5 us, p99 <= 50 us. The peer
// is Python's loop.run_in_executor (bench/throttle_offload_bench.sh runs both in one go).
//
// A round trip is two thread hand-offs, so next to the bridge this prints what the hand-offs
// alone cost on this machine, in the same run:
//   - bare asio::post there and back (no result, no guards, no cancellation): the bridge's own
//     cost is the difference;
//   - two threads waking each other with futex wait/notify and no Asio at all: the OS floor of any
//     design in which the waiting threads sleep.
// Each is measured twice: as an embedder would run by default (an asio::thread_pool whose threads
// sleep, a loop that sleeps in io_context::run), and with neither side sleeping (a spinning pool
// thread, a loop that polls), which costs a core but no wake-ups.
//
// Usage: fxrates_bench_offload_roundtrip [COUNT] [POOL_THREADS] [sleeping]
//   "sleeping" skips the spinning rows (for a run pinned to one core, where spinning cannot help).

#include "spinning_pool.hpp"

#include <fxrates/offload.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;

namespace {

using clock_type = std::chrono::steady_clock;

double micros(clock_type::duration d)
{
    return std::chrono::duration<double, std::micro>(d).count();
}

void report(const char* what, std::vector<double>& us)
{
    std::sort(us.begin(), us.end());
    std::printf("%-66s median %6.1f us, p99 %6.1f us\n", what, us[us.size() / 2], us[us.size() * 99 / 100]);
}

enum class loop_mode
{
    sleeps, // io_context::run: the loop thread sleeps while it waits
    polls,  // io_context::poll in a loop: it never sleeps
};

// Runs the loop until `finished`, in `mode`.
void drive(asio::io_context& context, loop_mode mode, const bool& finished)
{
    context.restart();
    if (mode == loop_mode::sleeps)
        context.run();
    else
        while (!finished)
            context.poll();
}

template <class PoolExecutor>
std::vector<double> bridge_round_trips(asio::io_context& context, loop_mode mode, PoolExecutor pool, int count)
{
    std::vector<double> us;
    us.reserve(static_cast<std::size_t>(count));
    bool finished = false;
    auto measure = [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 1000; ++i) // warm up, as the Python peer does
            co_await fxrates::async_offload(pool, [] { return 1; });
        for (int i = 0; i < count; ++i)
        {
            auto start = clock_type::now();
            int value = co_await fxrates::async_offload(pool, [] { return 1; });
            us.push_back(micros(clock_type::now() - start) + (value - 1));
        }
        finished = true;
    };
    asio::co_spawn(context, measure(), asio::detached);
    drive(context, mode, finished);
    return us;
}

// The same two hand-offs with bare asio::post and nothing else.
template <class PoolExecutor>
std::vector<double> post_round_trips(asio::io_context& context, loop_mode mode, PoolExecutor pool, int count)
{
    std::vector<double> us;
    us.reserve(static_cast<std::size_t>(count));
    bool finished = false;
    int done = 0;
    clock_type::time_point start;
    auto guard = asio::make_work_guard(context);
    std::function<void()> step = [&] {
        if (done++ >= count)
        {
            finished = true;
            guard.reset();
            return;
        }
        start = clock_type::now();
        asio::post(pool, [&] {
            asio::post(context, [&] {
                us.push_back(micros(clock_type::now() - start));
                step();
            });
        });
    };
    asio::post(context, step);
    drive(context, mode, finished);
    return us;
}

// Two plain threads, each sleeping in futex wait until the other notifies it.
std::vector<double> futex_round_trips(int count)
{
    std::atomic<int> to_worker{0}, to_caller{0};
    std::thread worker([&] {
        for (int i = 1; i <= count; ++i)
        {
            for (int seen = to_worker.load(); seen != i; seen = to_worker.load())
                to_worker.wait(seen);
            to_caller.store(i);
            to_caller.notify_one();
        }
    });
    std::vector<double> us;
    us.reserve(static_cast<std::size_t>(count));
    for (int i = 1; i <= count; ++i)
    {
        auto start = clock_type::now();
        to_worker.store(i);
        to_worker.notify_one();
        for (int seen = to_caller.load(); seen != i; seen = to_caller.load())
            to_caller.wait(seen);
        us.push_back(micros(clock_type::now() - start));
    }
    worker.join();
    return us;
}

} // namespace

int main(int argc, char** argv)
{
    int count = argc > 1 ? std::stoi(argv[1]) : 20000;
    int threads = argc > 2 ? std::stoi(argv[2]) : 4;
    bool sleeping_only = argc > 3 && std::string(argv[3]) == "sleeping";

    asio::io_context context(1);
    std::string pool_name = "asio::thread_pool(" + std::to_string(threads) + ")";
    {
        asio::thread_pool pool(static_cast<std::size_t>(threads));
        auto us = bridge_round_trips(context, loop_mode::sleeps, pool.get_executor(), count);
        report(("fxrates async_offload, " + pool_name + ", loop sleeps").c_str(), us);
        us = post_round_trips(context, loop_mode::sleeps, pool.get_executor(), count);
        report("  bare asio::post there and back, same", us);
    }
    auto us = futex_round_trips(count);
    report("  two threads, futex wait/notify, no Asio (the OS floor)", us);

    if (!sleeping_only)
    {
        spinning_pool pool;
        us = bridge_round_trips(context, loop_mode::polls, pool.get_executor(), count);
        report("fxrates async_offload, spinning pool thread, loop polls", us);
        us = post_round_trips(context, loop_mode::polls, pool.get_executor(), count);
        report("  bare asio::post there and back, same", us);
    }
    return 0;
}
