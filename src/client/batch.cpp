#include "client/batch.hpp"

#include "client/deadline.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace fxrates::detail {

namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

template <class Outcome>
struct batch_state
{
    std::size_t count;
    const std::function<asio::awaitable<Outcome>(std::size_t)>& fetch;
    const std::function<void(std::size_t, const Outcome&)>& observe;
    std::vector<Outcome>& outcomes;
    std::vector<bool> finished;
    std::size_t next = 0;
    bool stopping = false;
    clock_type::time_point queued = clock_type::now();
};

// Takes the next item until none is left: N items cost as many coroutines as workers, not N.
template <class Outcome>
asio::awaitable<void> worker(batch_state<Outcome>& batch)
{
    // Cancellation is reported in outcomes; an exception would skip the transport's bookkeeping.
    co_await asio::this_coro::throw_if_cancelled(false);
    while (!batch.stopping && batch.next < batch.count)
    {
        std::size_t index = batch.next++;
        auto outcome = co_await batch.fetch(index);
        outcome.timing.queued = batch.queued; // every item of a batch is queued when it starts
        if (batch.stopping)
        {
            // Stopped meanwhile: run_ordered_batch accounts for this item, saying what had happened.
            batch.outcomes[index].attempts = outcome.attempts;
            batch.outcomes[index].rate_limited = outcome.rate_limited;
            batch.outcomes[index].server_answered = outcome.server_answered || outcome.rate_limited > 0;
            break;
        }
        batch.outcomes[index] = std::move(outcome);
        batch.finished[index] = true;
        if (batch.observe)
            batch.observe(index, batch.outcomes[index]);
    }
}

} // namespace

template <class Outcome>
asio::awaitable<basic_batch_result<Outcome>>
run_ordered_batch(std::vector<Outcome> outcomes, std::size_t workers, clock_type::duration time_limit,
                  std::function<asio::awaitable<Outcome>(std::size_t)> fetch,
                  std::function<void(std::size_t, const Outcome&)> observe)
{
    co_await asio::this_coro::throw_if_cancelled(false);
    auto executor = co_await asio::this_coro::executor;
    basic_batch_result<Outcome> result;
    result.outcomes = std::move(outcomes);
    const std::size_t count = result.outcomes.size();
    if (count == 0)
        co_return result;

    batch_state<Outcome> batch{count, fetch, observe, result.outcomes, std::vector<bool>(count, false)};
    workers = std::clamp<std::size_t>(workers, 1, count);
    std::vector<asio::cancellation_signal> stop(workers);
    std::size_t running = workers;
    // Both the deadline and, cancelled by the last worker, the "all done" signal.
    asio::steady_timer wake(executor, deadline_after(time_limit));
    for (std::size_t w = 0; w < workers; ++w)
    {
        // A worker ends by itself, or by an exception (it then leaves its item unfinished, and
        // that item is reported below like any other unfinished one).
        auto on_exit = [&](std::exception_ptr) {
            if (--running == 0)
                wake.cancel();
        };
        asio::co_spawn(executor, worker(batch), asio::bind_cancellation_slot(stop[w].slot(), std::move(on_exit)));
    }
    co_await wake.async_wait(use_tuple);
    bool cancelled = false;
    if (running > 0)
    {
        // The deadline passed, or the caller cancelled: stop the workers and wait for them
        // (every step honours cancellation promptly), then account for every unfinished item.
        asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
        cancelled = state.cancelled() != asio::cancellation_type::none;
        if (cancelled)
        {
            result.error = asio::error::operation_aborted;
            co_await asio::this_coro::reset_cancellation_state();
        }
        batch.stopping = true;
        for (auto& signal : stop)
            signal.emit(asio::cancellation_type::terminal);
        while (running > 0)
        {
            wake.expires_at(clock_type::time_point::max());
            co_await wake.async_wait(use_tuple);
        }
    }
    for (std::size_t i = 0; i < count; ++i)
    {
        if (batch.finished[i])
            continue;
        auto& outcome = result.outcomes[i];
        outcome.diag = {};
        if (cancelled)
        {
            outcome.error = asio::error::operation_aborted;
            outcome.diag.set_client_message("cancelled before the answer came");
        }
        else if (!batch.stopping)
        {
            outcome.error = errc::worker_failed;
            outcome.diag.set_client_message("the request failed unexpectedly (an exception)");
        }
        else
        {
            outcome.error = errc::batch_deadline;
            outcome.diag.set_client_message(batch_deadline_message(true, time_limit, outcome.rate_limited));
        }
        if (observe)
            observe(i, outcome);
    }
    co_return result;
}

template asio::awaitable<basic_batch_result<rates_outcome>>
run_ordered_batch(std::vector<rates_outcome>, std::size_t, clock_type::duration,
                  std::function<asio::awaitable<rates_outcome>(std::size_t)>,
                  std::function<void(std::size_t, const rates_outcome&)>);
template asio::awaitable<basic_batch_result<fetch_outcome>>
run_ordered_batch(std::vector<fetch_outcome>, std::size_t, clock_type::duration,
                  std::function<asio::awaitable<fetch_outcome>(std::size_t)>,
                  std::function<void(std::size_t, const fetch_outcome&)>);

asio::awaitable<batch_result> run_batch(std::vector<currency_code> bases, std::size_t workers,
                                        clock_type::duration time_limit, fetch_function fetch,
                                        outcome_observer observe)
{
    std::vector<rates_outcome> outcomes(bases.size());
    for (std::size_t i = 0; i < bases.size(); ++i)
        outcomes[i].base = bases[i];
    auto fetch_base = [&bases, &fetch](std::size_t index) -> asio::awaitable<rates_outcome> {
        auto outcome = co_await fetch(bases[index]);
        outcome.base = bases[index];
        co_return outcome;
    };
    co_return co_await run_ordered_batch<rates_outcome>(std::move(outcomes), workers, time_limit, fetch_base,
                                                        std::move(observe));
}

std::string batch_deadline_message(bool started, std::chrono::steady_clock::duration time_limit,
                                   unsigned rate_limited)
{
    auto limit = " within the batch time limit of " +
                 std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(time_limit).count()) + " ms";
    if (!started)
        return "not started" + limit;
    if (rate_limited > 0)
        return "still held back by the server's rate limit" + limit + " (" + std::to_string(rate_limited) +
               " answers 429 Too Many Requests)";
    return "no answer" + limit;
}

} // namespace fxrates::detail
