// Load from the async client: N rate requests (the book's five bases, cycled) with at most C
// connections at once, every answer decoded, against a running `fxrates serve` or any API.
// Prints wall time, requests per second, CPU per request and peak RSS of this process.
//
// Usage: fxrates_bench_client_load URL CA_FILE N C [MAX_HANDSHAKES]
// bench/client_bench.sh runs it next to wrk and the Python peer against one server.

#include <fxrates/client.hpp>

#include <boost/asio/io_context.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace {

double cpu_seconds()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

long peak_rss_kib()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 5 && argc != 6)
    {
        std::fprintf(stderr, "usage: %s URL CA_FILE N C [MAX_HANDSHAKES]\n", argv[0]);
        return 1;
    }
    fxrates::client_params params;
    params.api_url = argv[1];
    params.ca_file = argv[2];
    params.use_system_trust = false; // as the Python peer: ssl.create_default_context(cafile=...)
    params.thread_safe = false;      // one thread runs the io_context below and uses the client
    std::size_t count = std::stoul(argv[3]);
    params.max_connections = std::stoul(argv[4]);
    if (argc == 6)
        params.max_handshakes = std::stoul(argv[5]);
    params.batch_timeout = std::chrono::minutes(10);
    params.request_timeout = std::chrono::minutes(10);

    const char* seed[] = {"USD", "EUR", "PLN", "NOK", "CZK"};
    std::vector<fxrates::currency_code> bases;
    for (std::size_t i = 0; i < count; ++i)
        bases.emplace_back(seed[i % 5]);

    boost::asio::io_context context(1);
    fxrates::client api(context, params);
    std::vector<fxrates::rates_outcome> outcomes;
    double cpu_before = cpu_seconds();
    auto started = std::chrono::steady_clock::now();
    api.async_get_rates_batch(bases, {}, [&](fxrates::error_code, std::vector<fxrates::rates_outcome> results) {
        outcomes = std::move(results);
    });
    context.run();
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    double cpu = cpu_seconds() - cpu_before;

    std::size_t ok = 0, opened = 0, resumed = 0;
    for (const auto& outcome : outcomes)
    {
        ok += outcome.ok() && outcome.value.values.size() > 5 ? 1 : 0;
        opened += outcome.timing.reused_connection ? 0 : 1;
        resumed += outcome.timing.resumed_tls_session ? 1 : 0;
    }
    std::printf("fxrates client: N=%zu C=%zu ok=%zu wall=%.3f s  %.0f req/s  CPU %.3f s = %.1f us/request  "
                "peak RSS %.1f MiB  connections %zu (%zu TLS resumed)\n",
                count, params.max_connections, ok, wall, static_cast<double>(count) / wall, cpu,
                cpu * 1e6 / static_cast<double>(count), static_cast<double>(peak_rss_kib()) / 1024.0, opened,
                resumed);
    if (ok != count)
    {
        for (const auto& outcome : outcomes)
            if (!outcome.ok())
            {
                std::fprintf(stderr, "first failure: %s: %s %s\n", outcome.base.str().c_str(),
                             outcome.error.message().c_str(), outcome.diag.client_message().c_str());
                break;
            }
        return 1;
    }
    return 0;
}
