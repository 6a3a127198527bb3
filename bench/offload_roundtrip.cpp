// Round trip of a trivial function through the offload bridge: post to a thread pool, run, and
// resume the awaiting coroutine on the event loop. The peer is Python's loop.run_in_executor
// (bench/throttle_offload_bench.sh runs both in one go). Target (issue 4): median <= 5 us, p99 <= 50 us.
//
// Usage: fxrates_bench_offload_roundtrip [COUNT] [POOL_THREADS]

#include <fxrates/offload.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace asio = boost::asio;

int main(int argc, char** argv)
{
    int count = argc > 1 ? std::stoi(argv[1]) : 20000;
    int threads = argc > 2 ? std::stoi(argv[2]) : 4;
    asio::io_context context(1);
    asio::thread_pool pool(static_cast<std::size_t>(threads));
    std::vector<double> us;
    us.reserve(static_cast<std::size_t>(count));

    auto measure = [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 1000; ++i) // warm up, as the Python peer does
            co_await fxrates::async_offload(pool.get_executor(), [] { return 1; });
        for (int i = 0; i < count; ++i)
        {
            auto start = std::chrono::steady_clock::now();
            int value = co_await fxrates::async_offload(pool.get_executor(), [] { return 1; });
            auto took = std::chrono::steady_clock::now() - start;
            us.push_back(std::chrono::duration<double, std::micro>(took).count() + (value - 1));
        }
    };
    asio::co_spawn(context, measure(), asio::detached);
    context.run();
    std::sort(us.begin(), us.end());
    std::printf("fxrates async_offload round trip: median %.1f us, p99 %.1f us (%d runs, %d pool threads)\n",
                us[us.size() / 2], us[us.size() * 99 / 100], count, threads);

    // The floor: the same two thread hand-offs with bare asio::post and nothing else (no result,
    // no work guards, no cancellation), so the bridge's own cost is the difference.
    std::vector<double> floor_us;
    floor_us.reserve(static_cast<std::size_t>(count));
    int done = 0;
    std::chrono::steady_clock::time_point start;
    auto guard = asio::make_work_guard(context);
    std::function<void()> step = [&] {
        if (done++ >= count)
        {
            guard.reset();
            return;
        }
        start = std::chrono::steady_clock::now();
        asio::post(pool, [&] {
            asio::post(context, [&] {
                floor_us.push_back(
                    std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
                step();
            });
        });
    };
    context.restart();
    asio::post(context, step);
    context.run();
    std::sort(floor_us.begin(), floor_us.end());
    std::printf("bare asio::post there and back (floor): median %.1f us, p99 %.1f us\n", floor_us[floor_us.size() / 2],
                floor_us[floor_us.size() * 99 / 100]);
    return 0;
}
