// The async client against the in-process look-alike server over real TLS on loopback.

#include <fxrates/client.hpp>
#include <fxrates/date.hpp>
#include <fxrates/server/local_server.hpp>

#include <fxrates/server/fault.hpp>

#include "server/tls_identity.hpp"
#include "support/run_until.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/error.hpp>

#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <deque>
#include <memory>
#include <optional>
#include <thread>

namespace asio = boost::asio;
using fxrates::client;
using fxrates::client_params;
using fxrates::currency_code;
using fxrates::local_server;
using fxrates::rates_outcome;
using fxrates::server_params;
using fxrates::test::run_until_complete;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> all_codes = {"EUR", "USD", "JPY", "BGN", "CZK", "DKK", "GBP", "HUF", "PLN",
                                            "RON", "SEK", "CHF", "ISK", "NOK", "HRK", "RUB", "TRY", "AUD",
                                            "BRL", "CAD", "CNY", "HKD", "IDR", "ILS", "INR", "KRW", "MXN",
                                            "MYR", "NZD", "PHP", "SGD", "THB", "ZAR"};

std::vector<currency_code> codes(const std::vector<std::string>& texts)
{
    std::vector<currency_code> result;
    for (const auto& text : texts)
        result.emplace_back(text);
    return result;
}

client_params trusting(const local_server& server)
{
    client_params params;
    params.api_url = server.base_url();
    params.ca_pem = server.certificate_pem();
    params.use_system_trust = false;
    return params;
}

struct rates_result
{
    fxrates::error_code error;
    fxrates::diagnostics diag;
    fxrates::rates value;
};

asio::awaitable<rates_result> get_rates(client& api, std::string base, fxrates::rates_query query = {})
{
    rates_result result;
    auto [ec, value] = co_await api.async_get_rates(currency_code(base), std::move(query), result.diag,
                                                   asio::as_tuple(asio::use_awaitable));
    result.error = ec;
    result.value = std::move(value);
    co_return result;
}

asio::awaitable<std::vector<rates_outcome>> get_batch(client& api, std::vector<currency_code> bases,
                                                      fxrates::rates_query query = {})
{
    // The default token: `co_await` works with no token at all.
    co_return co_await api.async_get_rates_batch(std::move(bases), std::move(query));
}

server_params fixed_day()
{
    server_params params;
    params.today = std::chrono::sys_days{std::chrono::year{2026} / 11 / 22};
    return params;
}

// A server with the given certificate and key instead of its usual one.
server_params serving(const fxrates::detail::tls_identity& identity)
{
    auto params = fixed_day();
    params.certificate_pem = identity.certificate_pem;
    params.private_key_pem = identity.private_key_pem;
    return params;
}

} // namespace

TEST_CASE("one base is fetched and decoded, with symbols and a date")
{
    local_server server(fixed_day());
    asio::io_context context;
    client api(context, trusting(server));
    fxrates::rates_query query{codes({"EUR", "JPY", "CZK"}), std::chrono::year{2019} / 4 / 9};
    auto result = run_until_complete(context, get_rates(api, "USD", query));
    REQUIRE_FALSE(result.error);
    CHECK(result.value.base == currency_code("USD"));
    CHECK(result.value.date == std::chrono::year_month_day{std::chrono::year{2019} / 4 / 9});
    CHECK(result.value.values.size() == 3);
    CHECK(result.value.values.at(currency_code("EUR")) == 0.886761);
    CHECK(result.value.values.at(currency_code("JPY")) == 111.297331);
}

TEST_CASE("all 33 bases in one batch come back in input order")
{
    local_server server(fixed_day());
    asio::io_context context;
    client api(context, trusting(server));
    auto bases = codes(all_codes);
    std::reverse(bases.begin(), bases.end()); // an order the server would not produce by itself
    fxrates::rates_query query{{}, std::chrono::year{2019} / 4 / 9};
    auto outcomes = run_until_complete(context, get_batch(api, bases, query));
    REQUIRE(outcomes.size() == bases.size());
    for (std::size_t i = 0; i < bases.size(); ++i)
    {
        CAPTURE(bases[i].str());
        CHECK(outcomes[i].base == bases[i]);
        CHECK(outcomes[i].ok());
        CHECK(outcomes[i].value.base == bases[i]);
        CHECK(outcomes[i].value.values.size() == 33);
    }
}

TEST_CASE("a batch with an observer tells it of every base once, on the client's executor, with the outcome it returns")
{
    local_server server(fixed_day());
    asio::io_context context;
    client api(context, trusting(server));
    auto bases = codes(all_codes);
    std::vector<int> heard(bases.size(), 0);
    std::vector<std::string> bases_heard(bases.size());
    auto observe = [&](std::size_t index, const rates_outcome& outcome) {
        CHECK(context.get_executor().running_in_this_thread()); // inside the loop, not a thread of its own
        REQUIRE(index < bases.size());
        ++heard[index];
        bases_heard[index] = outcome.ok() ? outcome.value.base.str() : "failed";
    };
    auto batch = [&]() -> asio::awaitable<std::vector<rates_outcome>> {
        fxrates::rates_query query{{}, std::chrono::year{2019} / 4 / 9}; // a day with all 33
        co_return co_await api.async_get_rates_batch(bases, query, observe, asio::deferred);
    };
    auto outcomes = run_until_complete(context, batch());
    REQUIRE(outcomes.size() == bases.size());
    for (std::size_t i = 0; i < bases.size(); ++i)
    {
        CHECK(heard[i] == 1);
        CHECK(bases_heard[i] == bases[i].str());
    }
}

TEST_CASE("one failing base is reported and the others are kept")
{
    local_server server(fixed_day());
    asio::io_context context;
    client api(context, trusting(server));
    auto outcomes = run_until_complete(context, get_batch(api, codes({"USD", "XXX", "NOK"})));
    REQUIRE(outcomes.size() == 3);
    CHECK(outcomes[0].ok());
    CHECK(outcomes[2].ok());
    CHECK(outcomes[1].error == fxrates::make_http_error(400));
    CHECK(outcomes[1].diag.server_message() == "Base currency 'XXX' is not supported.");
}

TEST_CASE("20 bases with 200 ms of server latency finish in well under twice the latency")
{
    auto params = fixed_day();
    params.latency = 200ms;
    local_server server(params);
    asio::io_context context;
    client api(context, trusting(server));
    std::vector<currency_code> bases = codes(std::vector<std::string>(all_codes.begin(), all_codes.begin() + 20));
    // A check that requests really overlap, deliberately generous; speed is measured in bench/.
    fxrates::rates_query query{{}, std::chrono::year{2019} / 4 / 9}; // a day all 33 have a value
    // A first batch opens the 20 keep-alive connections; the timed one then measures requests,
    // not TLS handshakes, which under the sanitizers cost more than the margin.
    run_until_complete(context, get_batch(api, bases, query));
    auto start = std::chrono::steady_clock::now();
    auto outcomes = run_until_complete(context, get_batch(api, bases, query));
    auto elapsed = std::chrono::steady_clock::now() - start;
    for (const auto& outcome : outcomes)
    {
        CHECK(outcome.ok());
        CHECK(outcome.timing.reused_connection);
    }
    CHECK(elapsed < 400ms);
}

namespace {

struct connection_counts
{
    std::size_t opened = 0;  // requests that opened a new connection
    std::size_t resumed = 0; // of those, handshakes that resumed a TLS session
};

connection_counts count_connections(const std::vector<rates_outcome>& outcomes)
{
    connection_counts counts;
    for (const auto& outcome : outcomes)
    {
        CHECK(outcome.ok());
        counts.opened += outcome.timing.reused_connection ? 0 : 1;
        counts.resumed += outcome.timing.resumed_tls_session ? 1 : 0;
    }
    return counts;
}

} // namespace

TEST_CASE("new connections resume the TLS session of an earlier one, unless told not to")
{
    auto server_settings = fixed_day();
    server_settings.latency = 50ms; // the batch's three requests overlap, so two open new connections
    local_server server(server_settings);
    for (bool resume : {true, false})
    {
        CAPTURE(resume);
        asio::io_context context;
        auto params = trusting(server);
        params.resume_tls_sessions = resume;
        client api(context, params);
        auto first = run_until_complete(context, get_batch(api, codes({"USD"})));
        REQUIRE(first.size() == 1);
        CHECK_FALSE(first[0].timing.resumed_tls_session); // nothing to resume yet: a full handshake

        auto later = count_connections(run_until_complete(context, get_batch(api, codes({"EUR", "PLN", "NOK"}))));
        CHECK(later.opened == 2); // the third reuses the idle connection
        CHECK(later.resumed == (resume ? 2 : 0));
    }
}

TEST_CASE("connections opened at once wait for the first one's session and resume it")
{
    auto server_settings = fixed_day();
    server_settings.latency = 50ms;
    local_server server(server_settings);
    asio::io_context context;
    client api(context, trusting(server));
    auto bases = codes({"USD", "EUR", "PLN", "NOK", "CZK", "GBP", "JPY", "CHF"});
    auto counts = count_connections(run_until_complete(context, get_batch(api, bases)));
    CHECK(counts.opened == 8);
    CHECK(counts.resumed == 7); // all but the pioneer
}

TEST_CASE("connections that wait for a handshake slot still resume the session")
{
    auto server_settings = fixed_day();
    server_settings.latency = 50ms;
    local_server server(server_settings);
    asio::io_context context;
    auto params = trusting(server);
    params.max_handshakes = 2;
    client api(context, params);
    auto bases = codes({"USD", "EUR", "PLN", "NOK", "CZK", "GBP", "JPY", "CHF"});
    auto counts = count_connections(run_until_complete(context, get_batch(api, bases)));
    CHECK(counts.opened == 8);
    // All but the pioneer. A TLS 1.3 ticket is offered once: each later pair waits for the ticket
    // that an earlier resumption brings, instead of a full handshake (2 of 7 resumed without that).
    CHECK(counts.resumed >= 5); // 7 unless a ticket is late on a busy machine
}

// A TLS server that reads each connection's ClientHello and never answers it: a handshake ends
// only when the test closes its connection.
struct silent_tls_server
{
    explicit silent_tls_server(asio::io_context& context) : listener(context, {asio::ip::make_address("127.0.0.1"), 0})
    {
    }

    std::string url() const { return "https://127.0.0.1:" + std::to_string(listener.local_endpoint().port()); }

    // Ends the oldest handshake under way.
    void end_oldest()
    {
        greeted.front()->close();
        greeted.pop_front();
    }

    asio::ip::tcp::acceptor listener;
    std::size_t accepted = 0;
    std::size_t hellos = 0;
    std::deque<std::shared_ptr<asio::ip::tcp::socket>> greeted; // ClientHello read, not answered
};

asio::awaitable<void> read_client_hello(silent_tls_server& server, std::shared_ptr<asio::ip::tcp::socket> socket)
{
    std::array<char, 4096> bytes;
    auto [ec, n] = co_await socket->async_read_some(asio::buffer(bytes), asio::as_tuple(asio::use_awaitable));
    if (ec)
        co_return;
    ++server.hellos;
    server.greeted.push_back(socket);
}

asio::awaitable<void> accept_connections(silent_tls_server& server)
{
    for (;;)
    {
        auto socket = std::make_shared<asio::ip::tcp::socket>(server.listener.get_executor());
        auto [ec] = co_await server.listener.async_accept(*socket, asio::as_tuple(asio::use_awaitable));
        if (ec)
            co_return;
        ++server.accepted;
        asio::co_spawn(server.listener.get_executor(), read_client_hello(server, socket), asio::detached);
    }
}

TEST_CASE("at most max_handshakes TLS handshakes are under way at once; the other connections wait their turn")
{
    asio::io_context context;
    silent_tls_server server(context);
    asio::co_spawn(context, accept_connections(server), asio::detached);

    client_params params;
    params.api_url = server.url();
    params.insecure = true;             // the handshakes fail anyway: nothing answers them
    params.resume_tls_sessions = false; // no pioneer: every connection handshakes as soon as it may
    params.retry.max_attempts = 1;
    params.max_connections = 6;
    params.max_handshakes = 2;
    client api(context, params);
    std::optional<std::vector<rates_outcome>> outcomes;
    asio::co_spawn(context, get_batch(api, codes({"USD", "EUR", "PLN", "NOK", "CZK", "GBP"})),
                   [&](std::exception_ptr, std::vector<rates_outcome> done) { outcomes = std::move(done); });

    // Client and server share this loop. When it has nothing left to run and the two handshakes
    // the bound allows have begun (a ClientHello may linger in the kernel a moment on a busy
    // machine), the handshakes under way are counted; then the oldest is ended, which lets the
    // next connection start its own. Without the bound, all six are under way at the first count.
    auto deadline = std::chrono::steady_clock::now() + 20s;
    std::size_t most_under_way = 0, ended = 0;
    while (!outcomes)
    {
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        bool settled = server.accepted == 6 && server.greeted.size() >= std::min<std::size_t>(2, 6 - ended);
        if (!settled || context.poll() != 0)
        {
            context.run_one_for(10ms); // connections still opening, or work still to run
            continue;
        }
        most_under_way = std::max(most_under_way, server.greeted.size());
        if (server.greeted.empty())
        {
            context.run_one_for(10ms); // every handshake has ended: the batch completes
            continue;
        }
        server.end_oldest();
        ++ended;
    }

    CHECK(server.accepted == 6);      // every connection was opened at once...
    CHECK(server.hellos == 6);        // ...each had its handshake in turn...
    CHECK(most_under_way == 2);       // ...never more than two at a time
    for (const auto& outcome : *outcomes)
        CHECK(outcome.error);
    server.listener.close();
}

TEST_CASE("an untrusted certificate is rejected with a clear message, and --insecure accepts it")
{
    local_server server(fixed_day());
    asio::io_context context;
    client_params params;
    params.api_url = server.base_url();
    params.use_system_trust = true; // the system does not know our self-signed certificate
    client strict(context, params);
    auto rejected = run_until_complete(context, get_rates(strict, "USD"));
    CHECK(rejected.error);
    CHECK(rejected.diag.client_message().find("was rejected") != std::string::npos);
    CHECK(rejected.diag.client_message().find("self-signed") != std::string::npos);
    // The certificate is named, and a CA file is suggested: trust is the problem here.
    CHECK(rejected.diag.client_message().find("subject 'CN=fxrates local server'") != std::string::npos);
    CHECK(rejected.diag.client_message().find("trust its CA with a CA file") != std::string::npos);

    params.insecure = true;
    client lenient(context, params);
    auto accepted = run_until_complete(context, get_rates(lenient, "USD"));
    CHECK_FALSE(accepted.error);
}

TEST_CASE("a certificate for another host name is rejected with a clear message")
{
    fxrates::detail::tls_identity_params names;
    names.dns_names = {"rates.example.com"};
    names.ip_addresses = {};
    local_server server(serving(fxrates::detail::make_self_signed_identity(names)));

    asio::io_context context;
    client api(context, trusting(server)); // trusts the certificate, but it names another host
    auto result = run_until_complete(context, get_rates(api, "USD"));
    CHECK(result.error);
    CHECK(result.diag.client_message().find("mismatch") != std::string::npos);
    CHECK(result.diag.client_message().find("subject 'CN=fxrates local server'") != std::string::npos);
    CHECK(result.diag.client_message().find("CA file") == std::string::npos); // it is trusted: no CA file helps
}

TEST_CASE("an expired certificate is rejected with a clear message")
{
    fxrates::detail::tls_identity_params names;
    names.validity = std::chrono::hours(24);
    names.issued_ago = std::chrono::hours(48); // expired a day ago
    local_server server(serving(fxrates::detail::make_self_signed_identity(names)));

    asio::io_context context;
    client api(context, trusting(server)); // trusted, but out of date
    auto result = run_until_complete(context, get_rates(api, "USD"));
    CHECK(result.error == fxrates::condition::tls);
    CHECK(result.diag.client_message().find("certificate has expired") != std::string::npos);
    // Since when: the subject and the end of its validity, yesterday, in UTC.
    auto yesterday = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now() - std::chrono::hours(24));
    auto day = fxrates::to_iso_string(std::chrono::year_month_day(yesterday));
    INFO(result.diag.client_message());
    CHECK(result.diag.client_message().find("subject 'CN=fxrates local server'") != std::string::npos);
    CHECK(result.diag.client_message().find("until " + day) != std::string::npos);
    CHECK(result.diag.client_message().find("CA file") == std::string::npos);
}

TEST_CASE("a keep-alive connection the server closed is replaced transparently")
{
    auto params = fixed_day();
    params.request_timeout = 100ms; // the server drops idle keep-alive connections after this
    local_server server(params);
    asio::io_context context;
    client api(context, trusting(server));

    auto first = run_until_complete(context, get_rates(api, "USD"));
    REQUIRE_FALSE(first.error);
    // Wait for the event itself, the server closing the idle connection, under a hard deadline.
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (server.open_connections() != 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::yield();
    REQUIRE(server.open_connections() == 0);

    auto second = run_until_complete(context, get_rates(api, "EUR"));
    CHECK_FALSE(second.error);
    CHECK(server.requests_served() == 2);
}

TEST_CASE("a body over the limit is refused")
{
    local_server server(fixed_day());
    asio::io_context context;
    auto params = trusting(server);
    params.body_limit = 100; // a full rates answer is about 700 bytes
    client api(context, params);
    auto result = run_until_complete(context, get_rates(api, "USD"));
    CHECK(result.error == fxrates::errc::body_limit);
    CHECK(result.diag.client_message().find("larger than the body limit") != std::string::npos);
}

TEST_CASE("a server that never answers makes the request time out")
{
    asio::io_context context;
    // Accepts connections and never says a word: not even the TLS handshake.
    asio::ip::tcp::acceptor silent(context, {asio::ip::make_address("127.0.0.1"), 0});
    asio::ip::tcp::socket held(context);
    silent.async_accept(held, [](boost::system::error_code) {});

    client_params params;
    params.api_url = "https://127.0.0.1:" + std::to_string(silent.local_endpoint().port());
    params.handshake_timeout = 200ms;
    client api(context, params);
    auto result = run_until_complete(context, get_rates(api, "USD"), 10s);
    CHECK(result.error == fxrates::condition::timeout);
}

TEST_CASE("a client whose executor one thread runs (thread_safe false) runs on it as given, with no strand")
{
    local_server server(fixed_day());
    asio::io_context context(1);
    auto params = trusting(server);
    params.thread_safe = false;
    client api(context, params);
    CHECK(api.get_executor().target<asio::io_context::executor_type>() != nullptr);
    CHECK(api.get_executor().target<asio::strand<asio::io_context::executor_type>>() == nullptr);
    auto result = run_until_complete(context, get_rates(api, "USD"));
    CHECK_FALSE(result.error);
    CHECK(result.value.base == currency_code("USD"));

    // A strand given is kept as it is, whatever the setting.
    client on_strand(asio::make_strand(context), params);
    CHECK(on_strand.get_executor().target<asio::strand<asio::io_context::executor_type>>() != nullptr);
}

TEST_CASE("an io_context run by four threads is safe: the client serialises itself on a strand")
{
    local_server server(fixed_day());
    asio::io_context context(4);
    client api(context, trusting(server));
    CHECK(api.get_executor().target<asio::strand<asio::io_context::executor_type>>() != nullptr);
    // Four batches at once, their completions on whichever thread; ThreadSanitizer (the tsan
    // preset) reports any race inside the client.
    std::array<std::vector<fxrates::rates_outcome>, 4> results;
    std::atomic<int> done = 0;
    std::atomic<bool> timed_out = false;
    asio::steady_timer deadline(context, std::chrono::seconds(60)); // a hang becomes a failure
    deadline.async_wait([&](fxrates::error_code ec) {
        if (!ec)
        {
            timed_out = true;
            context.stop();
        }
    });
    fxrates::rates_query query;
    query.date = std::chrono::year{2019} / 4 / 9; // a day on which all 33 were quoted
    for (auto& slot : results)
        api.async_get_rates_batch(codes(all_codes), query, [&, slot = &slot](fxrates::error_code, auto outcomes) {
            *slot = std::move(outcomes);
            if (++done == 4)
                context.stop(); // idle connections and the deadline would keep run() going
        });
    std::vector<std::thread> threads;
    for (int i = 0; i < 3; ++i)
        threads.emplace_back([&] { context.run(); });
    context.run();
    for (auto& thread : threads)
        thread.join();
    CHECK_FALSE(timed_out);
    REQUIRE(done == 4);
    for (const auto& outcomes : results)
    {
        REQUIRE(outcomes.size() == all_codes.size());
        for (const auto& outcome : outcomes)
        {
            CAPTURE(outcome.base.str());
            CAPTURE(outcome.error.message());
            CAPTURE(outcome.diag.client_message());
            CHECK(outcome.ok());
        }
    }
}

TEST_CASE("the currencies list is fetched")
{
    local_server server(fixed_day());
    asio::io_context context;
    client api(context, trusting(server));
    auto list = run_until_complete(context, [&]() -> asio::awaitable<fxrates::currency_list> {
        co_return co_await api.async_get_currencies();
    }());
    CHECK(list.size() == 33);
}

TEST_CASE("co_await with the default token throws error_with_diagnostics, which keeps the explanation")
{
    local_server server(fixed_day());
    asio::io_context context;
    client api(context, trusting(server));
    auto caught = run_until_complete(context, [&]() -> asio::awaitable<std::optional<fxrates::error_with_diagnostics>> {
        try
        {
            co_await api.async_get_rates(currency_code("XXX"));
        }
        catch (const fxrates::error_with_diagnostics& e)
        {
            co_return e;
        }
        co_return std::nullopt;
    }());
    REQUIRE(caught);
    CHECK(caught->code() == fxrates::make_http_error(400));
    CHECK(caught->get_diagnostics().server_message().find("XXX") != std::string::npos);

    // With the caller's own diagnostics, they are filled in too; other tokens keep the error code.
    fxrates::diagnostics mine;
    auto also = run_until_complete(context, [&]() -> asio::awaitable<std::string> {
        try
        {
            co_await api.async_get_rates(currency_code("QQQ"), {}, mine);
        }
        catch (const fxrates::error_with_diagnostics& e)
        {
            co_return e.get_diagnostics().server_message();
        }
        co_return "";
    }());
    CHECK(also.find("QQQ") != std::string::npos);
    CHECK(mine.server_message() == also);
    auto [ec, value] = run_until_complete(context, api.async_get_rates(currency_code("XXX"), {},
                                                                       asio::as_tuple(asio::use_awaitable)));
    CHECK(ec == fxrates::make_http_error(400));
}

TEST_CASE("a bad API URL is refused when the client is made")
{
    asio::io_context context;
    client_params params;
    params.api_url = "http://api.vatcomply.com";
    CHECK_THROWS_AS(client(context, params), std::invalid_argument);
    params.api_url = "not a url";
    CHECK_THROWS_AS(client(context, params), std::invalid_argument);
}

TEST_CASE("a user agent that would end the header line early is refused, a plain one is sent")
{
    asio::io_context context;
    client_params params;
    params.user_agent = "fxrates\r\nX-Injected: 1";
    CHECK_THROWS_WITH_AS(client(context, params), doctest::Contains("control characters"), std::invalid_argument);

    local_server server(fixed_day());
    auto trusted = trusting(server);
    trusted.user_agent = "embedder/2.0 (fxrates)";
    client api(context, trusted);
    auto result = run_until_complete(context, get_rates(api, "USD"));
    CHECK_FALSE(result.error);
}

TEST_CASE("a throttled batch stays within the server's rate limit")
{
    auto server_settings = fixed_day();
    server_settings.rate_limit = 40;
    server_settings.burst = 40;
    local_server server(server_settings);
    asio::io_context context;
    auto params = trusting(server);
    params.rate = 40; // starts empty: one request per 25 ms, never a burst the server would refuse
    client api(context, params);
    std::vector<currency_code> bases(30, currency_code("USD"));
    auto outcomes = run_until_complete(context, get_batch(api, bases));
    for (const auto& outcome : outcomes)
        CHECK(outcome.ok());
    // One timer wake-up per grant at most (a polling throttle would wake far more often); a late
    // timer may serve several grants at once, so there can be fewer.
    CHECK(api.stats().throttle_wakeups >= 1);
    CHECK(api.stats().throttle_wakeups <= 30);
}

TEST_CASE("a 429 with Retry-After pauses the origin for every queued request, and the request goes back in the queue")
{
    auto server_settings = fixed_day();
    server_settings.rate_limit = 1; // one request a second
    server_settings.burst = 1;
    local_server server(server_settings);
    asio::io_context context;
    auto params = trusting(server);
    params.rate = 50; // far faster than the server allows...
    params.burst = 1;
    params.max_connections = 1;
    params.retry.max_attempts = 1; // no retries: a 429 is not a failure that needs one
    client api(context, params);
    auto outcomes = run_until_complete(context, get_batch(api, codes({"USD", "EUR", "PLN"})));
    REQUIRE(outcomes.size() == 3);
    for (const auto& outcome : outcomes)
        CHECK(outcome.ok());
    // EUR met the limit, waited out its Retry-After and was sent again; after that the client paced
    // itself just under the server's announced rate. (A loaded machine may delay one request more
    // than the 2% slack allows, so one more 429 may come; never one per request.)
    CHECK(outcomes[0].rate_limited == 0);
    CHECK(outcomes[1].rate_limited >= 1);
    CHECK(outcomes[1].attempts == outcomes[1].rate_limited + 1);
    CHECK(api.stats().rate_limited_answers <= 2);
    CHECK(outcomes[2].timing.granted - outcomes[1].timing.done >= 900ms);
}

TEST_CASE("a 503 is retried with backoff and the base succeeds; a 400 is not retried")
{
    auto server_settings = fixed_day();
    auto refusals = std::make_shared<std::atomic<int>>(0);
    server_settings.inject_status = [refusals](std::string_view target) -> std::optional<unsigned> {
        if (target.find("base=NOK") != std::string_view::npos && (*refusals)++ < 2)
            return 503;
        return std::nullopt;
    };
    local_server server(server_settings);
    asio::io_context context;
    auto params = trusting(server);
    params.retry.base_delay = 10ms;
    client api(context, params);
    auto outcomes = run_until_complete(context, get_batch(api, codes({"NOK", "XXX", "USD"})));
    REQUIRE(outcomes.size() == 3);
    CHECK(outcomes[0].ok());
    CHECK(outcomes[0].attempts == 3);
    CHECK(outcomes[1].error == fxrates::make_http_error(400));
    CHECK(outcomes[1].attempts == 1);
    CHECK(outcomes[2].attempts == 1);
}

TEST_CASE("retries stay within the batch's budget during an outage")
{
    auto server_settings = fixed_day();
    server_settings.inject_status = [](std::string_view) -> std::optional<unsigned> { return 503; };
    local_server server(server_settings);
    asio::io_context context;
    auto params = trusting(server);
    params.retry.base_delay = 1ms;
    params.retry.max_attempts = 5;
    client api(context, params);
    std::vector<currency_code> bases(10, currency_code("USD"));
    auto outcomes = run_until_complete(context, get_batch(api, bases));
    for (const auto& outcome : outcomes)
        CHECK(outcome.error == fxrates::condition::transient);
    // 10 requests, and retries within the budget: 20% of the batch (2), but never fewer than one
    // request may make alone (4, with 5 attempts): 4 retries in all, not 40.
    CHECK(server.requests_served() == 14);
}

namespace {

// One base against a server that answers every request with `kind`, under `params`, no retries.
rates_outcome one_faulty_base(fxrates::fault kind, client_params params)
{
    auto server_settings = fixed_day();
    server_settings.inject_fault = [kind](std::string_view) -> std::optional<fxrates::fault> { return kind; };
    local_server server(server_settings);
    asio::io_context context;
    auto settings = trusting(server);
    settings.retry.max_attempts = 1;
    settings.first_byte_timeout = params.first_byte_timeout;
    settings.read_idle_timeout = params.read_idle_timeout;
    settings.request_timeout = params.request_timeout;
    client api(context, settings);
    auto outcomes = run_until_complete(context, get_batch(api, codes({"USD"})), 10s);
    REQUIRE(outcomes.size() == 1);
    return outcomes.front();
}

bool says(const rates_outcome& outcome, std::string_view text)
{
    return outcome.diag.client_message().find(text) != std::string::npos;
}

} // namespace

TEST_CASE("each phase of a request has its own deadline, and the failure names it")
{
    client_params params;
    params.request_timeout = 30s;
    SUBCASE("no answer at all: the first-byte timeout")
    {
        params.first_byte_timeout = 200ms;
        auto outcome = one_faulty_base(fxrates::fault::stall, params);
        CAPTURE(outcome.diag.client_message());
        CHECK(outcome.error == fxrates::condition::timeout);
        CHECK(says(outcome, "no answer from"));
        CHECK(says(outcome, "first-byte timeout (0.2 s)"));
    }
    SUBCASE("an answer that pauses between bytes: the read idle timeout")
    {
        params.read_idle_timeout = 40ms; // the server sends a byte every 100 ms
        auto outcome = one_faulty_base(fxrates::fault::drip, params);
        CAPTURE(outcome.diag.client_message());
        CHECK(outcome.error == fxrates::condition::timeout);
        CHECK(says(outcome, "stalled"));
        CHECK(says(outcome, "read idle timeout (0.04 s)"));
        CHECK(outcome.timing.first_byte != rates_outcome{}.timing.first_byte);
    }
    SUBCASE("an answer that keeps trickling in: the request timeout")
    {
        params.request_timeout = 500ms;
        auto outcome = one_faulty_base(fxrates::fault::drip, params);
        CAPTURE(outcome.diag.client_message());
        CHECK(outcome.error == fxrates::condition::timeout);
        CHECK(says(outcome, "did not finish within the request timeout (0.5 s)"));
    }
}

TEST_CASE("a request held by the throttle past the queue timeout fails without being sent")
{
    local_server server(fixed_day());
    asio::io_context context;
    auto params = trusting(server);
    params.rate = 2; // the bucket starts empty: grants at 0.5 s and 1.0 s
    params.burst = 1;
    params.queue_timeout = 750ms;
    params.retry.max_attempts = 1;
    client api(context, params);
    auto outcomes = run_until_complete(context, get_batch(api, codes({"USD", "EUR"})));
    REQUIRE(outcomes.size() == 2);
    CHECK(outcomes[0].ok());
    CAPTURE(outcomes[1].diag.client_message());
    CHECK(outcomes[1].error == fxrates::condition::timeout);
    CHECK(says(outcomes[1], "queue timeout (0.75 s)"));
    CHECK(server.requests_served() == 1);
}

TEST_CASE("the total timeout spans retries: no retry starts that could not finish in time")
{
    auto server_settings = fixed_day();
    server_settings.inject_status = [](std::string_view) -> std::optional<unsigned> { return 503; };
    local_server server(server_settings);
    asio::io_context context;
    auto params = trusting(server);
    params.retry.max_attempts = 1000; // never the limit here
    params.retry.base_delay = 100ms;
    params.retry.max_delay = 100ms;
    params.total_timeout = 400ms;
    client api(context, params);
    auto started = std::chrono::steady_clock::now();
    // One base on its own: no batch, so no retry budget; only the total stops the retries.
    auto result = run_until_complete(context, get_rates(api, "USD"));
    auto elapsed = std::chrono::steady_clock::now() - started;
    CAPTURE(result.diag.client_message());
    // The last attempt ends with the 503, or, on a slow machine, is cut short by the total itself.
    CHECK((result.error == fxrates::make_http_error(503) || result.error == fxrates::condition::timeout));
    CHECK(result.diag.client_message().find("the total timeout (0.4 s)") != std::string::npos);
    CHECK(server.requests_served() >= 2);
    CHECK(elapsed < 400ms + 300ms); // the total, and slack for a loaded machine; not a benchmark
}
