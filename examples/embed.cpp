// Embedding fxrates in your own Asio program: your io_context, your coroutines, and the client
// used three ways: `co_await` (no token needed), a callback, and `use_future` from another thread.
//
// Usage: fxrates_example_embed [API_URL CA_FILE]
// Without arguments it starts the built-in look-alike server, so it runs without a network.

#include <fxrates/client.hpp>
#include <fxrates/date.hpp>
#include <fxrates/server/local_server.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <iostream>
#include <optional>
#include <thread>

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

fxrates::rates_query euro_only()
{
    fxrates::rates_query query;
    query.symbols = {fxrates::currency_code("EUR")};
    return query;
}

std::string describe(const fxrates::rates& rates)
{
    return "1 " + rates.base.str() + " = " + std::to_string(rates.values.at(fxrates::currency_code("EUR"))) +
           " EUR on " + fxrates::to_iso_string(rates.date);
}

// The program's own work, which keeps running while requests are in flight.
asio::awaitable<void> ticker(std::atomic<int>& pending)
{
    asio::steady_timer timer(co_await asio::this_coro::executor);
    int ticks = 0;
    while (pending > 0)
    {
        timer.expires_after(10ms);
        co_await timer.async_wait(asio::use_awaitable);
        ++ticks;
    }
    std::cout << "ticker: ran " << (ticks > 0 ? "alongside" : "without") << " the requests\n";
}

asio::awaitable<void> with_co_await(fxrates::client& api, std::atomic<int>& pending, std::atomic<int>& failures)
{
    try
    {
        // No completion token: the default makes the call awaitable, and a failure throws
        // error_with_diagnostics, which says why (and what the server said).
        fxrates::rates usd = co_await api.async_get_rates(fxrates::currency_code("USD"), euro_only());
        std::cout << "co_await:   " << describe(usd) << '\n';
    }
    catch (const fxrates::error_with_diagnostics& e)
    {
        std::cout << "co_await:   failed: " << e.what() << " (server: " << e.get_diagnostics().server_message()
                  << ")\n";
        failures = 1;
    }
    --pending;
}

} // namespace

int main(int argc, char** argv)
{
    std::optional<fxrates::local_server> server;
    fxrates::client_params params;
    if (argc == 3)
    {
        params.api_url = argv[1];
        params.ca_file = argv[2];
    }
    else
    {
        server.emplace();
        params.api_url = server->base_url();
        params.ca_pem = server->certificate_pem();
    }

    asio::io_context context;
    fxrates::client api(context, params);
    std::atomic<int> pending = 3;
    std::atomic<int> exit_code = 0;

    asio::co_spawn(context, ticker(pending), asio::detached);
    asio::co_spawn(context, with_co_await(api, pending, exit_code), asio::detached);

    // A plain callback; it runs on the io_context's thread.
    fxrates::diagnostics diag;
    api.async_get_rates(fxrates::currency_code("PLN"), euro_only(), diag,
                        [&](fxrates::error_code ec, fxrates::rates pln) {
                            if (ec)
                            {
                                std::cout << "callback:   failed: " << ec.message() << ' ' << diag.client_message() << '\n';
                                exit_code = 1;
                            }
                            else
                                std::cout << "callback:   " << describe(pln) << '\n';
                            --pending;
                        });

    // use_future from another thread, which blocks on the result while the loop runs here.
    std::thread other([&] {
        try
        {
            auto nok = api.async_get_rates(fxrates::currency_code("NOK"), euro_only(), asio::use_future)
                           .get();
            std::cout << "use_future: " << describe(nok) << '\n';
        }
        catch (const std::exception& e)
        {
            std::cout << "use_future: failed: " << e.what() << '\n';
            exit_code = 1;
        }
        --pending;
    });

    context.run();
    other.join();
    return exit_code;
}
