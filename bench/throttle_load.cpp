// The throttle under load: N requests at R per second through the client's token bucket against a
// running server. Prints wall time (the floor is N / R, as the bucket starts empty), this
// process's CPU, and how often the throttle's timer woke up (one per grant is the ideal; the
// book's version polls every 100 ms per worker).
// Target (issue 4): R=10, N=50: wall within 1% of 5.0 s, CPU at most 50 ms, about 50 wake-ups.
//
// Usage: fxrates_bench_throttle_load URL CA_FILE [N] [R]

#include <fxrates/client.hpp>

#include <boost/asio/io_context.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <string>

int main(int argc, char** argv)
{
    if (argc < 3)
    {
        std::fprintf(stderr, "usage: %s URL CA_FILE [N] [R]\n", argv[0]);
        return 1;
    }
    std::size_t count = argc > 3 ? std::stoul(argv[3]) : 50;
    double rate = argc > 4 ? std::stod(argv[4]) : 10;
    fxrates::client_params params;
    params.api_url = argv[1];
    params.ca_file = argv[2];
    params.use_system_trust = false;
    params.rate = rate;
    params.batch_timeout = std::chrono::minutes(10);
    params.request_timeout = std::chrono::minutes(10);
    const char* seed[] = {"USD", "EUR", "PLN", "NOK", "CZK"};
    std::vector<fxrates::currency_code> bases;
    for (std::size_t i = 0; i < count; ++i)
        bases.emplace_back(seed[i % 5]);

    boost::asio::io_context context(1);
    fxrates::client api(context, params);
    std::size_t ok = 0;
    auto started = std::chrono::steady_clock::now();
    api.async_get_rates_batch(bases, {}, [&](fxrates::error_code, std::vector<fxrates::rates_outcome> outcomes) {
        for (const auto& outcome : outcomes)
            ok += outcome.ok() ? 1 : 0;
    });
    context.run();
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                 static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    double floor = static_cast<double>(count) / rate;
    std::printf("fxrates throttle: N=%zu R=%.0f ok=%zu wall=%.3f s (floor %.3f s, +%.2f%%)  whole-process CPU %.1f ms  "
                "timer wake-ups %llu\n",
                count, rate, ok, wall, floor, (wall / floor - 1) * 100, cpu * 1000,
                static_cast<unsigned long long>(api.stats().throttle_wakeups));
    return ok == count ? 0 : 1;
}
