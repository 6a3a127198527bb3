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

struct batch_state
{
    const std::vector<currency_code>& bases;
    const fetch_function& fetch;
    const outcome_observer& observe;
    std::vector<rates_outcome>& outcomes;
    std::vector<bool> finished;
    std::size_t next = 0;
    bool stopping = false;
    clock_type::time_point queued = clock_type::now();
};

// Takes the next base until none is left: N bases cost as many coroutines as workers, not N.
asio::awaitable<void> worker(batch_state& batch)
{
    // Cancellation is reported in outcomes; an exception would skip the transport's bookkeeping.
    co_await asio::this_coro::throw_if_cancelled(false);
    while (!batch.stopping && batch.next < batch.bases.size())
    {
        std::size_t index = batch.next++;
        auto outcome = co_await batch.fetch(batch.bases[index]);
        outcome.timing.queued = batch.queued; // every base of a batch is queued when it starts
        if (batch.stopping)
        {
            // Stopped meanwhile: run_batch accounts for this base, saying what had happened.
            batch.outcomes[index].attempts = outcome.attempts;
            batch.outcomes[index].rate_limited = outcome.rate_limited;
            batch.outcomes[index].server_answered = outcome.server_answered || outcome.rate_limited > 0;
            break;
        }
        outcome.base = batch.bases[index];
        batch.outcomes[index] = std::move(outcome);
        batch.finished[index] = true;
        if (batch.observe)
            batch.observe(index, batch.outcomes[index]);
    }
}

} // namespace

asio::awaitable<batch_result> run_batch(std::vector<currency_code> bases, std::size_t workers,
                                        clock_type::duration time_limit, fetch_function fetch,
                                        outcome_observer observe)
{
    co_await asio::this_coro::throw_if_cancelled(false);
    auto executor = co_await asio::this_coro::executor;
    batch_result result;
    const std::size_t count = bases.size();
    result.outcomes.resize(count);
    for (std::size_t i = 0; i < count; ++i)
        result.outcomes[i].base = bases[i];
    if (count == 0)
        co_return result;

    batch_state batch{bases, fetch, observe, result.outcomes, std::vector<bool>(count, false)};
    workers = std::clamp<std::size_t>(workers, 1, count);
    std::vector<asio::cancellation_signal> stop(workers);
    std::size_t running = workers;
    // Both the deadline and, cancelled by the last worker, the "all done" signal.
    asio::steady_timer wake(executor, deadline_after(time_limit));
    for (std::size_t w = 0; w < workers; ++w)
    {
        // A worker ends by itself, or by an exception (it then leaves its base unfinished, and
        // that base is reported below like any other unfinished one).
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
        // (every step honours cancellation promptly), then account for every unfinished base.
        cancelled = (co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none;
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
        outcome.value = {};
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
