// The client against a server that misbehaves on purpose: for every fault kind, a batch with 30%
// of its answers faulty ends within its deadline, every base is accounted for (a value, or a
// typed error), retries stay within the budget, and the values that came back are the right ones.

#include <fxrates/client.hpp>
#include <fxrates/server/local_server.hpp>

#include "support/run_until.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/http/error.hpp>

#include <doctest/doctest.h>

namespace asio = boost::asio;
using fxrates::currency_code;
using namespace std::chrono_literals;

namespace {

asio::awaitable<std::vector<fxrates::rates_outcome>> batch(fxrates::client& api, std::vector<currency_code> bases,
                                                           fxrates::rates_query query)
{
    co_return co_await api.async_get_rates_batch(std::move(bases), std::move(query));
}

// The kinds of failure a caller can act on; every error must be one of them.
bool is_typed(const fxrates::error_code& error)
{
    using fxrates::condition;
    return error == condition::timeout || error == condition::rate_limited || error == condition::transient ||
           error == condition::bad_response || error.category() == fxrates::http_category() ||
           error == boost::beast::http::error::body_limit || error == boost::beast::http::error::partial_message ||
           error == asio::error::connection_reset || error == asio::error::eof ||
           error == asio::ssl::error::stream_truncated || error == boost::beast::http::error::end_of_stream;
}

} // namespace

TEST_CASE("with 30% faulty answers of every kind, every base ends as a value or a typed error, in time")
{
    const std::vector<std::string> codes = {"USD", "EUR", "PLN", "NOK", "CZK", "GBP", "JPY", "CHF", "SEK", "DKK",
                                            "HUF", "RON", "AUD", "CAD", "NZD", "SGD", "HKD", "ZAR", "MXN", "INR"};
    std::vector<currency_code> bases;
    for (const auto& code : codes)
        bases.emplace_back(code);
    fxrates::rates_query query;
    query.date = std::chrono::year{2019} / 4 / 9;

    // The right answers, from a server that behaves.
    std::vector<fxrates::rates_outcome> reference;
    {
        fxrates::local_server server;
        asio::io_context context;
        fxrates::client_params params;
        params.api_url = server.base_url();
        params.ca_pem = server.certificate_pem();
        params.use_system_trust = false;
        fxrates::client api(context, params);
        reference = fxrates::test::run_until_complete(context, batch(api, bases, query));
        for (const auto& outcome : reference)
            REQUIRE(outcome.ok());
    }

    for (auto kind : fxrates::all_faults())
    {
        CAPTURE(to_string(kind));
        fxrates::server_params server_settings;
        server_settings.faults.add(kind, 0.3);
        server_settings.faults.seed(42);
        server_settings.request_timeout = 2s;
        fxrates::local_server server(server_settings);

        asio::io_context context;
        fxrates::client_params params;
        params.api_url = server.base_url();
        params.ca_pem = server.certificate_pem();
        params.use_system_trust = false;
        params.request_timeout = 700ms;
        params.batch_timeout = 4s;
        params.retry.base_delay = 10ms;
        params.retry.max_retry_after = 2s;
        fxrates::client api(context, params);

        auto started = std::chrono::steady_clock::now();
        auto outcomes = fxrates::test::run_until_complete(context, batch(api, bases, query), 30s);
        auto took = std::chrono::steady_clock::now() - started;
        CHECK(took < params.batch_timeout + 1s); // none past its deadline

        REQUIRE(outcomes.size() == bases.size());
        std::size_t attempts = 0;
        for (std::size_t i = 0; i < outcomes.size(); ++i)
        {
            const auto& outcome = outcomes[i];
            CAPTURE(outcome.base.str());
            CAPTURE(outcome.error.message());
            CHECK(outcome.base == bases[i]);
            if (outcome.ok())
                CHECK(outcome.value == reference[i].value); // a fault never changes a value that came back
            else
                CHECK(is_typed(outcome.error));
            attempts += outcome.attempts;
        }
        // At most 20% extra requests for retries (20 bases: 4), never more.
        CHECK(attempts <= bases.size() + 4);
    }
}
