// The smallest program of a user's: the look-alike server in-process, and the client asking it for
// one base with co_await. Prints the USD -> EUR rate of 2019-04-09 and exits 0.
#include <fxrates/client.hpp>
#include <fxrates/server/local_server.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <iostream>

int main()
{
    fxrates::local_server server;
    fxrates::client_params params;
    params.api_url = server.base_url();
    params.ca_pem = server.certificate_pem();

    boost::asio::io_context context;
    fxrates::client api(context, params);
    fxrates::rates_query query;
    query.date = std::chrono::year{2019} / 4 / 9;
    int status = 1;
    boost::asio::co_spawn(context, [&]() -> boost::asio::awaitable<void> {
        auto usd = co_await api.async_get_rates(fxrates::currency_code("USD"), query);
        std::cout << "1 USD = " << usd.values.at(fxrates::currency_code("EUR")) << " EUR\n";
        status = 0;
    }, boost::asio::detached);
    context.run();
    return status;
}
