// The batch runner over a fake fetch: no sockets, no wall clock. Each fake request waits on a gate
// that the test opens, so the test decides the order in which requests finish.

#include "client/batch.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <optional>
#include <thread>

namespace asio = boost::asio;
using fxrates::currency_code;
using fxrates::rates_outcome;
using fxrates::detail::batch_result;
using fxrates::detail::run_batch;

namespace {

struct gate
{
    explicit gate(asio::io_context& context) : timer(context, std::chrono::steady_clock::time_point::max()) {}
    asio::steady_timer timer; // never expires by itself: only the test opens it
    bool opened = false;
};

struct fake_api
{
    explicit fake_api(asio::io_context& io) : context(io) {}

    asio::io_context& context;
    std::map<std::string, std::unique_ptr<gate>> gates;
    int in_flight = 0;
    int most_in_flight = 0;
    unsigned rate_limited_when_stopped = 0; // 429s a stopped request had met

    static asio::awaitable<rates_outcome> fetch(fake_api* api, currency_code base)
    {
        auto& entry = api->gates[base.str()];
        entry = std::make_unique<gate>(api->context);
        gate* waiting = entry.get();
        api->most_in_flight = std::max(api->most_in_flight, ++api->in_flight);
        co_await waiting->timer.async_wait(asio::as_tuple(asio::use_awaitable));
        --api->in_flight;
        rates_outcome outcome;
        if (waiting->opened)
            outcome.value.values[currency_code("EUR")] = static_cast<double>(base.view()[0]);
        else
        {
            outcome.error = asio::error::operation_aborted;
            outcome.rate_limited = api->rate_limited_when_stopped;
        }
        co_return outcome;
    }

    fxrates::detail::fetch_function function()
    {
        return [this](currency_code base) { return fetch(this, base); };
    }

    void open(const std::string& code)
    {
        REQUIRE(gates.count(code) == 1);
        gates[code]->opened = true;
        gates[code]->timer.cancel();
        context.poll();
    }
};

std::vector<currency_code> codes(std::initializer_list<const char*> texts)
{
    std::vector<currency_code> result;
    for (auto text : texts)
        result.emplace_back(text);
    return result;
}

constexpr auto no_deadline = std::chrono::hours(24 * 365);

} // namespace

TEST_CASE("outcomes come back in input order whatever order the requests finish in")
{
    asio::io_context context;
    fake_api api{context};
    std::optional<batch_result> result;
    asio::co_spawn(context, run_batch(codes({"USD", "EUR", "PLN", "NOK"}), 10, no_deadline, api.function()),
                   [&](std::exception_ptr, batch_result r) { result = std::move(r); });
    context.poll();
    REQUIRE(api.in_flight == 4);
    for (const char* code : {"NOK", "USD", "PLN", "EUR"}) // an order unlike the input's
        api.open(code);
    REQUIRE(result);
    CHECK_FALSE(result->error);
    REQUIRE(result->outcomes.size() == 4);
    const char* expected[] = {"USD", "EUR", "PLN", "NOK"};
    for (std::size_t i = 0; i < 4; ++i)
    {
        CHECK(result->outcomes[i].base == currency_code(expected[i]));
        CHECK(result->outcomes[i].ok());
        CHECK(result->outcomes[i].value.values.at(currency_code("EUR")) == static_cast<double>(expected[i][0]));
    }
}

TEST_CASE("the observer hears of each base as it ends, in the order they end, before the batch completes")
{
    asio::io_context context;
    fake_api api{context};
    std::optional<batch_result> result;
    std::vector<std::size_t> heard;
    auto observe = [&](std::size_t index, const fxrates::rates_outcome& outcome) {
        CHECK_FALSE(result);
        CHECK(outcome.ok());
        heard.push_back(index);
    };
    asio::co_spawn(context, run_batch(codes({"USD", "EUR", "PLN"}), 3, no_deadline, api.function(), observe),
                   [&](std::exception_ptr, batch_result r) { result = std::move(r); });
    context.poll();
    api.open("PLN");
    CHECK(heard == std::vector<std::size_t>{2}); // at once, not at the end
    api.open("USD");
    api.open("EUR");
    REQUIRE(result);
    CHECK(heard == std::vector<std::size_t>{2, 0, 1});
}

TEST_CASE("the observer hears of the bases the time limit ended too")
{
    asio::io_context context;
    fake_api api{context};
    std::optional<batch_result> result;
    std::vector<std::size_t> heard;
    auto observe = [&](std::size_t index, const fxrates::rates_outcome& outcome) {
        CHECK_FALSE(result);
        CHECK(outcome.error == fxrates::errc::batch_deadline);
        heard.push_back(index);
    };
    asio::co_spawn(context, run_batch(codes({"USD", "EUR"}), 2, std::chrono::seconds(0), api.function(), observe),
                   [&](std::exception_ptr, batch_result r) { result = std::move(r); });
    context.run();
    REQUIRE(result);
    CHECK(heard == std::vector<std::size_t>{0, 1});
}

TEST_CASE("no more requests run at once than there are workers")
{
    asio::io_context context;
    fake_api api{context};
    std::optional<batch_result> result;
    asio::co_spawn(context, run_batch(codes({"USD", "EUR", "PLN", "NOK", "CZK"}), 2, no_deadline, api.function()),
                   [&](std::exception_ptr, batch_result r) { result = std::move(r); });
    context.poll();
    CHECK(api.in_flight == 2);
    CHECK(api.gates.size() == 2);
    api.open("USD");
    CHECK(api.gates.count("PLN") == 1); // the freed worker took the next base
    for (const char* code : {"EUR", "PLN", "NOK", "CZK"})
        api.open(code);
    REQUIRE(result);
    CHECK(api.most_in_flight == 2);
    for (const auto& outcome : result->outcomes)
        CHECK(outcome.ok());
}

TEST_CASE("a zero time limit stops the batch and marks every unfinished base")
{
    asio::io_context context;
    fake_api api{context};
    std::optional<batch_result> result;
    asio::co_spawn(context, run_batch(codes({"USD", "EUR"}), 2, std::chrono::seconds(0), api.function()),
                   [&](std::exception_ptr, batch_result r) { result = std::move(r); });
    context.run(); // the deadline has passed at once: nothing is left waiting
    REQUIRE(result);
    CHECK_FALSE(result->error);
    for (const auto& outcome : result->outcomes)
    {
        CHECK(outcome.error == fxrates::errc::batch_deadline);
        CHECK(outcome.error == fxrates::condition::timeout);
        CHECK(outcome.diag.client_message().find("time limit") != std::string::npos);
    }
}

TEST_CASE("a base still held back by 429s at the time limit says so, not that no answer came")
{
    asio::io_context context;
    fake_api api{context};
    api.rate_limited_when_stopped = 3;
    std::optional<batch_result> result;
    asio::co_spawn(context, run_batch(codes({"USD"}), 1, std::chrono::seconds(0), api.function()),
                   [&](std::exception_ptr, batch_result r) { result = std::move(r); });
    context.run();
    REQUIRE(result);
    const auto& outcome = result->outcomes.at(0);
    CHECK(outcome.error == fxrates::errc::batch_deadline);
    CHECK(outcome.rate_limited == 3);
    CHECK(outcome.server_answered);
    CHECK(outcome.diag.client_message() ==
          "still held back by the server's rate limit within the batch time limit of 0 ms (3 answers 429 Too Many Requests)");
}

TEST_CASE("cancelling the batch keeps finished results and aborts the rest")
{
    asio::io_context context;
    fake_api api{context};
    asio::cancellation_signal cancel;
    std::optional<batch_result> result;
    asio::co_spawn(context, run_batch(codes({"USD", "EUR", "PLN"}), 3, no_deadline, api.function()),
                   asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr, batch_result r) {
                       result = std::move(r);
                   }));
    context.poll();
    api.open("EUR");
    CHECK_FALSE(result);
    cancel.emit(asio::cancellation_type::terminal);
    context.run();
    REQUIRE(result);
    CHECK(result->error == asio::error::operation_aborted);
    CHECK(result->outcomes[0].error == asio::error::operation_aborted);
    CHECK(result->outcomes[1].ok());
    CHECK(result->outcomes[2].error == asio::error::operation_aborted);
    CHECK(result->outcomes[2].base == currency_code("PLN"));
}

TEST_CASE("an empty batch completes at once with no outcomes")
{
    asio::io_context context;
    fake_api api{context};
    std::optional<batch_result> result;
    asio::co_spawn(context, run_batch({}, 4, no_deadline, api.function()),
                   [&](std::exception_ptr, batch_result r) { result = std::move(r); });
    context.run();
    REQUIRE(result);
    CHECK(result->outcomes.empty());
}

// The pulled batch under the streamed fetch: items are taken only as workers free up, and never
// more than the window past the oldest unfinished one.
namespace {

using fxrates::detail::batch_task;
using fxrates::detail::batch_take;
using fxrates::detail::batch_waker;
using fxrates::detail::item_end;
using fxrates::detail::pulled_item;
using fxrates::detail::pulled_batch_end;
using fxrates::detail::run_pulled_batch;

// A currency-like code per index (the fake API keys its gates by base).
std::string code_of(std::size_t index)
{
    return "A" + std::string(1, static_cast<char>('A' + index / 26)) + std::string(1, static_cast<char>('A' + index % 26));
}

struct pulled_run
{
    explicit pulled_run(std::size_t items, std::optional<std::size_t> ready = std::nullopt)
        : count(items), available(ready.value_or(items))
    {
    }

    std::size_t count;
    std::size_t available; // items past it are not there yet: `take` answers pending
    batch_waker waker;     // the one `take` was given with its last pending
    std::size_t pendings = 0;
    std::vector<std::size_t> taken;
    std::vector<std::pair<std::size_t, item_end>> ended;
    std::optional<pulled_batch_end> end;

    void start(asio::io_context& context, fake_api& api, std::size_t workers, std::size_t window,
               asio::cancellation_slot slot = {})
    {
        batch_take<rates_outcome> take = [this, &api](std::size_t index,
                                                      const batch_waker& wake) -> pulled_item<rates_outcome> {
            if (index >= count)
                return {};
            if (index >= available)
            {
                ++pendings;
                waker = wake;
                return {std::nullopt, true};
            }
            taken.push_back(index);
            std::string code = code_of(index);
            return {batch_task<rates_outcome>([&api, code] { return fake_api::fetch(&api, currency_code(code)); })};
        };
        std::function<void(std::size_t, rates_outcome, item_end)> finish = [this](std::size_t index, rates_outcome,
                                                                                   item_end how) {
            ended.emplace_back(index, how);
        };
        asio::co_spawn(context, run_pulled_batch<rates_outcome>(workers, window, no_deadline, take, finish),
                       asio::bind_cancellation_slot(slot, [this](std::exception_ptr, pulled_batch_end e) { end = e; }));
    }
};

} // namespace

TEST_CASE("a pulled batch takes an item only when a worker is free")
{
    asio::io_context context;
    fake_api api{context};
    pulled_run run(5);
    run.start(context, api, 2, 0);
    context.poll();
    CHECK(run.taken == std::vector<std::size_t>{0, 1}); // two workers: nothing read ahead
    api.open(code_of(1));
    CHECK(run.taken == std::vector<std::size_t>{0, 1, 2});
    for (std::size_t i : {0, 2, 3, 4})
        api.open(code_of(i));
    REQUIRE(run.end);
    CHECK(run.end->taken == 5);
    CHECK_FALSE(run.end->cancelled);
    CHECK(run.ended.size() == 5);
}

TEST_CASE("a pulled batch starts nothing past the window behind a slow first item")
{
    asio::io_context context;
    fake_api api{context};
    pulled_run run(10);
    run.start(context, api, 4, 3);
    context.poll();
    CHECK(run.taken == std::vector<std::size_t>{0, 1, 2});
    api.open(code_of(1));
    api.open(code_of(2));
    CHECK(run.taken.size() == 3); // item 0 holds the window: 1 and 2 are done, nothing new starts
    api.open(code_of(0));
    CHECK(run.taken == std::vector<std::size_t>{0, 1, 2, 3, 4, 5});
    for (std::size_t i = 3; i < 10; ++i)
        api.open(code_of(i));
    REQUIRE(run.end);
    CHECK(run.ended.size() == 10);
}

TEST_CASE("cancelling a pulled batch ends the running items as cancelled and takes no more")
{
    asio::io_context context;
    fake_api api{context};
    asio::cancellation_signal cancel;
    pulled_run run(10);
    run.start(context, api, 2, 4, cancel.slot());
    context.poll();
    api.open(code_of(0));
    cancel.emit(asio::cancellation_type::terminal);
    context.run();
    REQUIRE(run.end);
    CHECK(run.end->cancelled);
    CHECK(run.end->taken == 3);
    REQUIRE(run.ended.size() == 3);
    CHECK(run.ended[0] == std::pair<std::size_t, item_end>{0, item_end::finished});
    CHECK(run.ended[1].second == item_end::cancelled);
    CHECK(run.ended[2].second == item_end::cancelled);
}

TEST_CASE("a pulled batch whose next item is not there yet waits for the waker, then goes on")
{
    asio::io_context context;
    fake_api api{context};
    pulled_run run(4, 1);
    run.start(context, api, 3, 0);
    context.poll();
    CHECK(run.taken == std::vector<std::size_t>{0});
    REQUIRE(run.waker);
    CHECK(run.pendings == 1); // the other idle worker waits for the waker, without asking
    const auto asked = run.pendings;
    context.poll();
    CHECK(run.pendings == asked); // waiting, not asking again and again
    run.available = 4;
    // Woken from another thread, as a reader thread does.
    std::thread([wake = run.waker] { wake(); }).join();
    context.poll();
    CHECK(run.taken == std::vector<std::size_t>{0, 1, 2}); // the two idle workers, one waking the other
    for (std::size_t i = 0; i < 4; ++i)
        api.open(code_of(i));
    context.poll();
    REQUIRE(run.end);
    CHECK(run.end->taken == 4);
    CHECK(run.ended.size() == 4);
}

TEST_CASE("a wake-up that comes before the workers wait is not lost")
{
    asio::io_context context;
    fake_api api{context};
    pulled_run run(2, 0);
    run.start(context, api, 1, 0);
    context.poll();
    REQUIRE(run.waker);
    run.available = 1;
    run.waker();
    run.waker(); // twice, or late: harmless
    context.poll();
    CHECK(run.taken == std::vector<std::size_t>{0});
    run.available = 2;
    run.waker();
    api.open(code_of(0));
    api.open(code_of(1));
    context.poll();
    REQUIRE(run.end);
    CHECK(run.end->taken == 2);
}

TEST_CASE("cancelling a pulled batch that waits for its next item ends it at once")
{
    asio::io_context context;
    fake_api api{context};
    asio::cancellation_signal cancel;
    pulled_run run(10, 1);
    run.start(context, api, 2, 0, cancel.slot());
    context.poll();
    cancel.emit(asio::cancellation_type::terminal);
    context.run();
    REQUIRE(run.end);
    CHECK(run.end->cancelled);
    CHECK(run.end->taken == 1);
    REQUIRE(run.ended.size() == 1);
    CHECK(run.ended[0].second == item_end::cancelled);
    auto late = run.waker;
    late(); // after the batch: does nothing
    context.restart();
    context.poll();
}
