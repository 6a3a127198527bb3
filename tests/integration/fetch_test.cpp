// The client's general fetch (any URL, a sink per item, a batch in input order) against the
// in-process server over real TLS on loopback.

#include <fxrates/client.hpp>
#include <fxrates/server/local_server.hpp>

#include "server/pattern.hpp"

#include "support/recording_sink.hpp"
#include "support/request_log.hpp"
#include "support/run_until.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <doctest/doctest.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using fxrates::client;
using fxrates::client_params;
using fxrates::fetch_item;
using fxrates::fetch_outcome;
using fxrates::local_server;
using fxrates::server_params;
using fxrates::test::recording_sink;
using fxrates::test::request_log;
using fxrates::test::resuming_sink;
using fxrates::test::run_until_complete;
using namespace std::chrono_literals;

namespace {

client_params trusting(const local_server& server)
{
    client_params params;
    params.api_url = server.base_url();
    params.ca_pem = server.certificate_pem();
    params.use_system_trust = false;
    return params;
}

server_params fixed_day()
{
    server_params params;
    params.today = std::chrono::sys_days(std::chrono::year_month_day(std::chrono::year(2024), std::chrono::month(3),
                                                                      std::chrono::day(1)));
    return params;
}

struct batch_run
{
    fxrates::error_code error;
    std::vector<fetch_outcome> outcomes;
    std::vector<std::size_t> observed;
};

asio::awaitable<batch_run> fetch_all(client& api, std::vector<fetch_item> items)
{
    batch_run run;
    auto observe = [&run](std::size_t index, const fetch_outcome&) { run.observed.push_back(index); };
    auto [ec, outcomes] =
        co_await api.async_fetch_batch(std::move(items), observe, asio::as_tuple(asio::use_awaitable));
    run.error = ec;
    run.outcomes = std::move(outcomes);
    co_return run;
}

asio::awaitable<fetch_outcome> fetch_into(client& api, std::string url, fxrates::body_sink& sink)
{
    // Named, not a temporary in the co_await expression (GCC 12 destroys such temporaries twice).
    fetch_item item{std::move(url), &sink, {}};
    auto [ec, outcome] = co_await api.async_fetch(std::move(item), asio::as_tuple(asio::use_awaitable));
    CHECK(ec == outcome.error);
    co_return outcome;
}

// A server whose request log the test reads, and a client that trusts it.
struct logged_server
{
    explicit logged_server(server_params params, const std::function<void(client_params&)>& adjust = {})
        : server(with_log(log, std::move(params))), api(context, adjusted(trusting(server), adjust))
    {
    }

    // Fetches `target` of the server into `sink`.
    fetch_outcome fetch(const std::string& target, fxrates::body_sink& sink)
    {
        return run_until_complete(context, fetch_into(api, server.base_url() + target, sink));
    }

    request_log log;
    local_server server;
    asio::io_context context;
    client api;

private:
    static server_params with_log(request_log& log, server_params params)
    {
        log.attach(params);
        return params;
    }
    static client_params adjusted(client_params params, const std::function<void(client_params&)>& adjust)
    {
        if (adjust)
            adjust(params);
        return params;
    }
};

} // namespace

TEST_CASE("a fetch batch gives one outcome per URL in input order: bodies, statuses, and an error for each bad one")
{
    local_server server(fixed_day());
    asio::io_context context;
    client api(context, trusting(server));
    const auto base = server.base_url();
    std::vector<fetch_item> items{{base + "/rates?base=USD", nullptr, {}},
                                  {base + "/no-such-path", nullptr, {}},
                                  {"ftp://example.com/x", nullptr, {}},
                                  {base + "/currencies", nullptr, {}},
                                  {base + "/rates?base=XXX", nullptr, {}}};
    auto run = run_until_complete(context, fetch_all(api, std::move(items)));
    CHECK_FALSE(run.error);
    REQUIRE(run.outcomes.size() == 5);
    CHECK(run.observed.size() == 5);

    const auto& usd = run.outcomes[0];
    CHECK(usd.ok());
    CHECK(usd.url == base + "/rates?base=USD");
    CHECK(usd.final_url == base + "/rates?base=USD");
    CHECK(usd.status == 200);
    CHECK(usd.content_type.starts_with("application/json"));
    CHECK(usd.body.find("\"base\":\"USD\"") != std::string::npos);
    CHECK(usd.bytes == usd.body.size());
    CHECK(usd.attempts == 1);

    CHECK(run.outcomes[1].error == fxrates::make_http_error(404));
    CHECK(run.outcomes[1].status == 404);
    CHECK(run.outcomes[2].error == fxrates::errc::bad_url);
    CHECK(run.outcomes[2].attempts == 0);
    CHECK(run.outcomes[2].url == "ftp://example.com/x");
    CHECK(run.outcomes[3].ok());
    CHECK(run.outcomes[3].body.find("\"USD\"") != std::string::npos);
    CHECK(run.outcomes[4].error == fxrates::make_http_error(400));
}

TEST_CASE("a fetched body goes to its sink as it arrives, counted, and never into the outcome")
{
    local_server server(fixed_day());
    asio::io_context context;
    client api(context, trusting(server));
    recording_sink sink;
    auto fetch_one = [&]() -> asio::awaitable<fetch_outcome> {
        // Named, not a temporary in the co_await expression (GCC 12 destroys such temporaries twice).
        fetch_item item{server.base_url() + "/rates?base=EUR", &sink, {}};
        auto [ec, outcome] = co_await api.async_fetch(std::move(item), asio::as_tuple(asio::use_awaitable));
        CHECK(ec == outcome.error);
        co_return outcome;
    };
    auto outcome = run_until_complete(context, fetch_one());
    CHECK(outcome.ok());
    CHECK(outcome.body.empty());
    CHECK(sink.statuses == std::vector<unsigned>{200});
    CHECK(sink.body.find("\"base\":\"EUR\"") != std::string::npos);
    CHECK(outcome.bytes == sink.body.size());
    CHECK(sink.writes >= 1);
}

TEST_CASE("a redirect is followed to the answer: the sink sees only the final answer, and the outcome names its URL")
{
    auto params = fixed_day();
    params.inject_fault = [](std::string_view target) -> std::optional<fxrates::fault> {
        if (target.starts_with("/rates"))
            return fxrates::fault::redirect_302;
        return std::nullopt;
    };
    local_server server(params);
    asio::io_context context;
    client api(context, trusting(server));
    recording_sink sink;
    std::vector<fetch_item> items{{server.base_url() + "/rates?base=PLN", &sink, {}}};
    auto run = run_until_complete(context, fetch_all(api, std::move(items)));
    REQUIRE(run.outcomes.size() == 1);
    const auto& outcome = run.outcomes[0];
    CHECK(outcome.ok());
    CHECK(outcome.redirects == 1);
    CHECK(outcome.final_url == server.base_url() + "/redirected/rates?base=PLN");
    CHECK(sink.statuses == std::vector<unsigned>{200});
    CHECK(sink.body.find("\"base\":\"PLN\"") != std::string::npos);
}

TEST_CASE("an item's own fields are sent with its request, and a field that would end the header early is refused")
{
    local_server server(fixed_day());
    asio::io_context context;
    client api(context, trusting(server));
    std::vector<fetch_item> items{
        {server.base_url() + "/rates?base=USD", nullptr, {{"Accept-Language", "pl"}}},
        {server.base_url() + "/rates?base=USD", nullptr, {{"X-Bad", "a\r\nInjected: yes"}}}};
    auto run = run_until_complete(context, fetch_all(api, std::move(items)));
    REQUIRE(run.outcomes.size() == 2);
    CHECK(run.outcomes[0].ok());
    CHECK(run.outcomes[1].error == boost::asio::error::invalid_argument);
    CHECK(run.outcomes[1].attempts == 1);
    CHECK(server.requests_served() == 1);
}

TEST_CASE("cancelling a fetch batch ends it at once: finished items keep their bodies, the rest are aborted")
{
    auto params = fixed_day();
    params.inject_fault = [](std::string_view target) -> std::optional<fxrates::fault> {
        if (target.find("base=EUR") != std::string_view::npos)
            return fxrates::fault::stall;
        return std::nullopt;
    };
    local_server server(params);
    asio::io_context context;
    client api(context, trusting(server));
    asio::cancellation_signal cancel;
    std::vector<fetch_item> items{{server.base_url() + "/rates?base=USD", nullptr, {}},
                                  {server.base_url() + "/rates?base=EUR", nullptr, {}}};
    auto run_batch = [&]() -> asio::awaitable<batch_run> {
        batch_run run;
        // The stalled item stays pending; once the other is observed, the batch is cancelled.
        auto observe = [&](std::size_t index, const fetch_outcome& outcome) {
            run.observed.push_back(index);
            if (outcome.ok())
                cancel.emit(asio::cancellation_type::terminal);
        };
        auto [ec, outcomes] = co_await api.async_fetch_batch(
            std::move(items), observe,
            asio::bind_cancellation_slot(cancel.slot(), asio::as_tuple(asio::use_awaitable)));
        run.error = ec;
        run.outcomes = std::move(outcomes);
        co_return run;
    };
    auto run = run_until_complete(context, run_batch(), 10s);
    CHECK(run.error == asio::error::operation_aborted);
    REQUIRE(run.outcomes.size() == 2);
    CHECK(run.outcomes[0].ok());
    CHECK(run.outcomes[0].body.find("\"base\":\"USD\"") != std::string::npos);
    CHECK(run.outcomes[1].error == fxrates::condition::cancelled);
    CHECK(run.observed.size() == 2);
}

namespace {

// A plain-HTTP origin of our own that answers every request with a 302 to `location`.
asio::awaitable<void> redirect_everything(asio::ip::tcp::acceptor& listener, std::string location)
{
    for (;;)
    {
        auto [accept_error, socket] = co_await listener.async_accept(asio::as_tuple(asio::use_awaitable));
        if (accept_error)
            co_return;
        std::string request;
        char buffer[1024];
        while (request.find("\r\n\r\n") == std::string::npos)
        {
            auto [read_error, read] = co_await socket.async_read_some(asio::buffer(buffer),
                                                                      asio::as_tuple(asio::use_awaitable));
            if (read_error)
                break;
            request.append(buffer, read);
        }
        std::string answer = "HTTP/1.1 302 Found\r\nLocation: " + location + "\r\nContent-Length: 0\r\n\r\n";
        co_await asio::async_write(socket, asio::buffer(answer), asio::as_tuple(asio::use_awaitable));
    }
}

} // namespace

TEST_CASE("a redirect from a plain http:// origin to another, https:// one is followed, with that origin's certificate check")
{
    local_server server(fixed_day());
    asio::io_context context;
    asio::ip::tcp::acceptor listener(context, {asio::ip::make_address("127.0.0.1"), 0});
    const auto target = server.base_url() + "/rates?base=NOK";
    asio::co_spawn(context, redirect_everything(listener, target), asio::detached);
    client api(context, trusting(server));
    recording_sink sink;
    const auto start = "http://127.0.0.1:" + std::to_string(listener.local_endpoint().port()) + "/old/place";
    std::vector<fetch_item> items{{start, &sink, {}}};
    auto run = run_until_complete(context, fetch_all(api, std::move(items)));
    listener.close();
    REQUIRE(run.outcomes.size() == 1);
    const auto& outcome = run.outcomes[0];
    CHECK(outcome.ok());
    CHECK(outcome.url == start);
    CHECK(outcome.final_url == target);
    CHECK(outcome.redirects == 1);
    CHECK(outcome.attempts == 2);
    CHECK(sink.statuses == std::vector<unsigned>{200});
    CHECK(sink.body.find("\"base\":\"NOK\"") != std::string::npos);
}

TEST_CASE("a fetch over plain http:// reads the server's plain port, and a body cut mid-way is an error, never a short success")
{
    auto params = fixed_day();
    params.plain_port = 0;
    params.inject_fault = [](std::string_view target) -> std::optional<fxrates::fault> {
        if (target.starts_with("/bytes/300000?cut"))
            return fxrates::fault::reset_mid_body;
        return std::nullopt;
    };
    local_server server(params);
    REQUIRE(server.plain_port());
    asio::io_context context;
    auto client_settings = trusting(server);
    client_settings.body_limit = 1 << 20;
    client_settings.retry.max_attempts = 1;
    client api(context, client_settings);
    const auto plain = server.plain_base_url();
    std::vector<fetch_item> items{{plain + "/bytes/300000", nullptr, {}}, {plain + "/bytes/300000?cut", nullptr, {}}};
    auto run = run_until_complete(context, fetch_all(api, std::move(items)));
    REQUIRE(run.outcomes.size() == 2);
    CHECK(run.outcomes[0].ok());
    CHECK(run.outcomes[0].bytes == 300000);
    CHECK(run.outcomes[0].timing.tls_done == run.outcomes[0].timing.connected); // no handshake on plain TCP
    CHECK_FALSE(run.outcomes[1].ok());
    CHECK(run.outcomes[1].server_answered);
}

TEST_CASE("a partial download resumes against the server with Range and If-Range, and ends with the bytes of a whole fetch")
{
    logged_server site(fixed_day());
    resuming_sink whole;
    auto first = site.fetch("/bytes/300000", whole);
    REQUIRE(first.ok());
    CHECK(first.status == 200);
    CHECK(first.resumed_from == 0);
    CHECK(first.bytes == 300000);
    REQUIRE(whole.body.size() == 300000);
    REQUIRE(whole.heads.size() == 1);
    CHECK(whole.heads[0].accepts_ranges);
    CHECK(whole.heads[0].total_size == 300000u);

    // What an interrupted run left: the first 123456 bytes and the validators they came with.
    auto partial = whole.first_bytes(123456);
    site.log.take();
    auto resumed = site.fetch("/bytes/300000", partial);
    REQUIRE(resumed.ok());
    CHECK(resumed.status == 206);
    CHECK(resumed.resumed_from == 123456);
    CHECK(resumed.bytes == 300000);
    CHECK(resumed.attempts == 1);
    CHECK(partial.misplaced == 0);
    CHECK(partial.body == whole.body);
    CHECK(site.log.take() == std::vector<std::string>{"GET /bytes/300000 range bytes=123456- -> 206"});

    // A validator the server no longer has: the whole body again, from the start.
    resuming_sink stale;
    stale.body = "not these bytes";
    stale.etag = "\"stale\"";
    auto restarted = site.fetch("/bytes/300000", stale);
    REQUIRE(restarted.ok());
    CHECK(restarted.status == 200);
    CHECK(restarted.resumed_from == 0);
    CHECK(stale.body == whole.body);
}

TEST_CASE("a partial download that holds the whole body already ends with the server's 416, nothing fetched again")
{
    logged_server site(fixed_day());
    resuming_sink whole;
    REQUIRE(site.fetch("/bytes/300000", whole).ok());
    // A run stopped between the last byte and the rename: every byte kept.
    auto partial = whole.first_bytes(300000);
    site.log.take();
    auto resumed = site.fetch("/bytes/300000", partial);
    REQUIRE(resumed.ok());
    CHECK(resumed.status == 206);
    CHECK(resumed.resumed_from == 300000);
    CHECK(resumed.bytes == 300000);
    CHECK(resumed.attempts == 1);
    CHECK(resumed.content_type.empty()); // the 416's own text's type is not the body's
    CHECK(partial.misplaced == 0);
    CHECK(partial.body == whole.body);
    CHECK(site.log.take() == std::vector<std::string>{"GET /bytes/300000 range bytes=300000- -> 416"});

    // One byte short of what the server has is not complete: that byte is fetched.
    auto almost = whole.first_bytes(299999);
    auto rest = site.fetch("/bytes/300000", almost);
    REQUIRE(rest.ok());
    CHECK(almost.body == whole.body);
    CHECK(site.log.take() == std::vector<std::string>{"GET /bytes/300000 range bytes=299999- -> 206"});
}

TEST_CASE("a body cut mid-way is resumed on the retry: only the rest is asked for, and the bytes are a whole fetch's")
{
    auto params = fixed_day();
    bool cut_once = false; // the server's thread only
    params.inject_fault = [&cut_once](std::string_view) -> std::optional<fxrates::fault> {
        if (std::exchange(cut_once, true))
            return std::nullopt;
        return fxrates::fault::short_body;
    };
    logged_server site(params, [](client_params& settings) {
        settings.retry.base_delay = 1ms;
        settings.retry.max_delay = 1ms;
    });
    resuming_sink sink;
    auto outcome = site.fetch("/bytes/400000", sink);
    REQUIRE(outcome.ok());
    CHECK(outcome.attempts == 2);
    CHECK(outcome.status == 206);
    CHECK(outcome.resumed_from > 0);
    CHECK(outcome.resumed_from < 400000);
    CHECK(outcome.bytes == 400000);
    std::string expected(400000, '\0');
    fxrates::detail::fill_pattern(0, expected);
    CHECK(sink.body == expected);
    auto lines = site.log.take();
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == "GET /bytes/400000 -> fault short-body");
    CHECK(lines[1] == "GET /bytes/400000 range bytes=" + std::to_string(outcome.resumed_from) + "- -> 206");
}

TEST_CASE("a server without range support (--no-ranges) gives a partial download the whole 200, and it starts over")
{
    auto params = fixed_day();
    params.ranges = false;
    logged_server site(params);
    resuming_sink whole;
    REQUIRE(site.fetch("/bytes/200000", whole).ok());
    REQUIRE(whole.heads.size() == 1);
    CHECK_FALSE(whole.heads[0].accepts_ranges);

    auto partial = whole.first_bytes(5000);
    site.log.take();
    auto outcome = site.fetch("/bytes/200000", partial);
    REQUIRE(outcome.ok());
    CHECK(outcome.status == 200);
    CHECK(outcome.resumed_from == 0);
    CHECK(outcome.bytes == 200000);
    CHECK(partial.body == whole.body);
    CHECK(site.log.take() == std::vector<std::string>{"GET /bytes/200000 range bytes=5000- -> 200"});
}

namespace {

// A list fed by another thread, as `fxrates fetch` feeds a list read from a pipe: the feed answers
// "not yet" while the queue is empty and keeps the waker, which the producer calls when it pushes.
struct threaded_list
{
    fxrates::fetch_feed_answer next(const fxrates::fetch_waker& wake)
    {
        std::lock_guard hold(lock);
        if (!queue.empty())
        {
            fetch_item item{queue.front(), nullptr, {}};
            queue.erase(queue.begin());
            return fxrates::fetch_feed_answer::next(std::move(item));
        }
        if (done)
            return fxrates::fetch_feed_answer::end();
        ++pendings;
        wakers.push_back(wake);
        return fxrates::fetch_feed_answer::not_yet();
    }

    // From the producer's thread.
    void push(std::optional<std::string> url)
    {
        std::vector<fxrates::fetch_waker> wake;
        {
            std::lock_guard hold(lock);
            if (url)
                queue.push_back(std::move(*url));
            else
                done = true;
            wake.swap(wakers);
        }
        for (auto& each : wake)
            each();
    }

    std::mutex lock;
    std::vector<std::string> queue;
    std::vector<fxrates::fetch_waker> wakers;
    bool done = false;
    std::size_t pendings = 0;
};

} // namespace

TEST_CASE("requests waiting for a connection are served in the order they came: a worker's next item never jumps the line")
{
    // 64 workers, 2 connections to the one origin: 62 requests wait. Were a connection given back
    // idle to whoever asks next, the worker that gave it back would take it for its next item at
    // once, ahead of all who wait, and items ended up to 248 places out of order (which the CLI's
    // ordered output must then hold, or spill).
    local_server server(fixed_day());
    asio::io_context context;
    auto params = trusting(server);
    params.max_connections = 64;
    params.max_connections_per_origin = 2;
    client api(context, params);
    constexpr std::size_t count = 300;
    std::vector<fetch_item> items;
    for (std::size_t k = 0; k < count; ++k)
        items.push_back({server.base_url() + "/bytes/64?i=" + std::to_string(k), nullptr, {}});
    auto run = run_until_complete(context, fetch_all(api, std::move(items)));
    CHECK_FALSE(run.error);
    REQUIRE(run.observed.size() == count);
    std::size_t furthest = 0; // how far from its place in the input an item ended
    for (std::size_t place = 0; place < count; ++place)
    {
        auto index = run.observed[place];
        furthest = std::max(furthest, index > place ? index - place : place - index);
    }
    CHECK(furthest <= 8);
    for (const auto& outcome : run.outcomes)
        CHECK(outcome.ok());
}

TEST_CASE("a host at its connection limit holds up no other host: its items wait without holding a worker")
{
    // The https origin never answers; the plain one answers at once. 4 workers, 2 connections per
    // origin: the two stalled requests fill their origin, and its other items must wait aside,
    // not in line with a worker each, or the plain items behind them never start.
    auto params = fixed_day();
    params.plain_port = 0;
    params.inject_fault = [](std::string_view target) -> std::optional<fxrates::fault> {
        if (target.find("hold") != std::string_view::npos)
            return fxrates::fault::stall;
        return std::nullopt;
    };
    local_server server(params);
    asio::io_context context;
    auto settings = trusting(server);
    settings.max_connections = 4;
    settings.max_connections_per_origin = 2;
    settings.retry.max_attempts = 1;
    client api(context, settings);
    constexpr std::size_t stalled = 6;
    constexpr std::size_t answered = 10;
    std::vector<fetch_item> items;
    for (std::size_t k = 0; k < stalled; ++k)
        items.push_back({server.base_url() + "/bytes/64?hold=" + std::to_string(k), nullptr, {}});
    for (std::size_t k = 0; k < answered; ++k)
        items.push_back({server.plain_base_url() + "/bytes/64?i=" + std::to_string(k), nullptr, {}});
    asio::cancellation_signal cancel;
    std::vector<std::size_t> observed;
    std::size_t answered_ok = 0;
    auto observe = [&](std::size_t index, const fetch_outcome& outcome) {
        observed.push_back(index);
        if (index >= stalled && outcome.ok() && ++answered_ok == answered)
            cancel.emit(asio::cancellation_type::terminal); // the event: every plain item is in
    };
    auto run_batch = [&]() -> asio::awaitable<batch_run> {
        batch_run run;
        auto [ec, outcomes] = co_await api.async_fetch_batch(
            std::move(items), observe, asio::bind_cancellation_slot(cancel.slot(), asio::as_tuple(asio::use_awaitable)));
        run.error = ec;
        run.outcomes = std::move(outcomes);
        co_return run;
    };
    auto run = run_until_complete(context, run_batch(), 15s);
    CHECK(answered_ok == answered);
    REQUIRE(observed.size() == stalled + answered);
    // The plain items ended first, all of them; then the cancellation ended the stalled ones.
    for (std::size_t place = 0; place < answered; ++place)
        CHECK(observed[place] >= stalled);
    REQUIRE(run.outcomes.size() == stalled + answered);
    for (std::size_t k = 0; k < stalled; ++k)
    {
        CHECK(run.outcomes[k].error == fxrates::condition::cancelled);
        CHECK(run.outcomes[k].url == server.base_url() + "/bytes/64?hold=" + std::to_string(k));
    }
    for (std::size_t k = stalled; k < stalled + answered; ++k)
        CHECK(run.outcomes[k].ok());
}

TEST_CASE("an item's timing counts its wait for its host's turn as queued: it starts once the item before it is done")
{
    local_server server(fixed_day());
    asio::io_context context;
    auto settings = trusting(server);
    settings.max_connections_per_origin = 1;
    client api(context, settings);
    std::vector<fetch_item> items{{server.base_url() + "/bytes/64?i=0", nullptr, {}},
                                  {server.base_url() + "/bytes/64?i=1", nullptr, {}}};
    auto run = run_until_complete(context, fetch_all(api, std::move(items)));
    REQUIRE(run.outcomes.size() == 2);
    const auto& first = run.outcomes[0].timing;
    const auto& second = run.outcomes[1].timing;
    CHECK(run.outcomes[1].ok());
    // The second was queued while the first ran, and got its connection only once the first was done.
    CHECK(second.queued < first.done);
    CHECK(second.started >= first.done);
    CHECK(second.reused_connection);
    CHECK(second.connected == second.started);
}

TEST_CASE("a streamed fetch from a feed that another thread fills goes on while the feed has nothing yet")
{
    local_server server(fixed_day());
    asio::io_context context;
    client api(context, trusting(server));
    threaded_list list;
    std::mutex seen_lock;
    std::condition_variable seen_changed;
    std::vector<std::pair<std::size_t, fetch_outcome>> seen;
    auto observe = [&](std::size_t index, const fetch_outcome& outcome) {
        std::lock_guard hold(seen_lock);
        seen.emplace_back(index, outcome);
        seen_changed.notify_all();
    };
    // Each URL is pushed only once the one before it has been fetched: the loop must run (and
    // answer) while the feed has nothing, or the producer waits in vain.
    bool producer_gave_up = false;
    std::thread producer([&] {
        for (std::size_t k = 0; k < 4; ++k)
        {
            list.push(server.base_url() + "/rates?base=" + std::string(k % 2 == 0 ? "USD" : "EUR"));
            std::unique_lock hold(seen_lock);
            if (!seen_changed.wait_for(hold, 20s, [&] { return seen.size() == k + 1; }))
            {
                producer_gave_up = true;
                break;
            }
        }
        list.push(std::nullopt);
    });
    fxrates::fetch_feed feed = [&list](const fxrates::fetch_waker& wake) { return list.next(wake); };
    auto run = [&]() -> asio::awaitable<fxrates::error_code> {
        auto [ec] = co_await api.async_fetch_stream(feed, observe, 0, asio::as_tuple(asio::use_awaitable));
        co_return ec;
    };
    auto error = run_until_complete(context, run());
    producer.join();
    CHECK_FALSE(error);
    CHECK_FALSE(producer_gave_up);
    REQUIRE(seen.size() == 4);
    for (std::size_t k = 0; k < 4; ++k)
    {
        CHECK(seen[k].first == k);
        CHECK(seen[k].second.ok());
    }
    CHECK(list.pendings >= 1); // it did wait for the feed
}

TEST_CASE("cancelling a streamed fetch that waits for its feed ends it at once")
{
    local_server server(fixed_day());
    asio::io_context context;
    client api(context, trusting(server));
    threaded_list list; // never filled
    asio::cancellation_signal cancel;
    fxrates::fetch_feed feed = [&](const fxrates::fetch_waker& wake) {
        auto answer = list.next(wake);
        // The event: the operation waits for the feed. Cancel it then, from the loop.
        asio::post(context, [&] { cancel.emit(asio::cancellation_type::terminal); });
        return answer;
    };
    auto run = [&]() -> asio::awaitable<fxrates::error_code> {
        auto [ec] = co_await api.async_fetch_stream(
            feed, {}, 0, asio::bind_cancellation_slot(cancel.slot(), asio::as_tuple(asio::use_awaitable)));
        co_return ec;
    };
    auto error = run_until_complete(context, run());
    CHECK(error == asio::error::operation_aborted);
    CHECK(list.pendings >= 1);
    // A waker called after the operation ended does nothing.
    for (auto& wake : list.wakers)
        wake();
    context.restart();
    context.poll();
}
