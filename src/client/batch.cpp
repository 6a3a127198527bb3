#include "client/batch.hpp"

#include "client/deadline.hpp"
#include "client/ordering_window.hpp"
#include "client/spawn.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <memory>

namespace fxrates::detail {

namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

template <class Outcome>
struct pulled_state
{
    pulled_state(const asio::any_io_executor& executor, std::size_t workers, std::size_t window,
                 batch_take<Outcome>& take_item, std::function<void(std::size_t, Outcome, item_end)>& finish_item)
        : take(take_item), finish(finish_item), running(workers), order(window),
          window_moved(executor, clock_type::time_point::max()),
          item_ready(std::make_shared<wake_point>(executor))
    {
        // From any thread, any number of times: one post per wake-up, and the flags and the
        // timer are touched on the batch's executor only.
        wake = [executor, ready = std::weak_ptr<wake_point>(item_ready)] {
            auto point = ready.lock();
            if (!point || point->wake_posted.exchange(true))
                return;
            asio::post(executor, [ready] {
                if (auto point = ready.lock())
                {
                    point->wake_posted = false;
                    point->awaiting = false;
                    point->timer.cancel_one();
                }
            });
        };
    }

    // Where workers wait while `take` has nothing yet; shared with the waker, which may outlive
    // the batch.
    struct wake_point
    {
        explicit wake_point(const asio::any_io_executor& executor) : timer(executor, clock_type::time_point::max()) {}
        asio::steady_timer timer;
        // `take` answered pending and holds the waker: no worker asks again until it is called,
        // so that a source is asked (and keeps a waker) once per wake-up, not once per idle worker.
        bool awaiting = false;
        std::atomic<bool> wake_posted = false;
    };

    batch_take<Outcome>& take;
    std::function<void(std::size_t, Outcome, item_end)>& finish;
    // Per worker: the index of the item it runs, if any (an exception leaves it there).
    std::vector<std::optional<std::size_t>> running;
    std::size_t taken = 0;
    bool exhausted = false;
    // The ordering window, and where workers wait for it to move.
    ordering_window order;
    asio::steady_timer window_moved;
    std::shared_ptr<wake_point> item_ready;
    batch_waker wake;
    std::optional<item_end> stopping; // stopped or cancelled, once the batch is being stopped
};

template <class Outcome>
void end_item(pulled_state<Outcome>& batch, std::size_t index, Outcome outcome, item_end how)
{
    batch.finish(index, std::move(outcome), how);
    if (batch.order.close(index))
        batch.window_moved.cancel();
}

// Takes the next item until none is left.
template <class Outcome>
asio::awaitable<void> worker(pulled_state<Outcome>& batch, std::size_t id)
{
    // Cancellation is reported in outcomes; an exception would skip the transport's bookkeeping.
    co_await asio::this_coro::throw_if_cancelled(false);
    while (!batch.stopping && !batch.exhausted)
    {
        if (!batch.order.has_room())
        {
            // Stopping the batch cancels this wait.
            co_await batch.window_moved.async_wait(use_tuple);
            continue;
        }
        auto& ready = *batch.item_ready;
        if (ready.awaiting)
        {
            // Stopping the batch cancels this wait.
            co_await ready.timer.async_wait(use_tuple);
            continue;
        }
        std::size_t index = batch.taken;
        pulled_item<Outcome> next = batch.take(index, batch.wake);
        if (next.pending)
        {
            // The waker wakes one worker, which wakes the next if it got an item: a wake-up does not
            // stir every idle worker.
            ready.awaiting = true;
            co_await ready.timer.async_wait(use_tuple);
            continue;
        }
        if (!next.task)
        {
            batch.exhausted = true;
            ready.timer.cancel(); // the workers waiting for an item end too
            break;
        }
        ready.timer.cancel_one();
        auto task = std::move(next.task);
        ++batch.taken;
        batch.order.open();
        batch.running[id] = index;
        Outcome outcome = co_await (*task)();
        batch.running[id].reset();
        end_item(batch, index, std::move(outcome), batch.stopping.value_or(item_end::finished));
    }
}

} // namespace

template <class Outcome>
asio::awaitable<pulled_batch_end> run_pulled_batch(std::size_t workers, std::size_t window,
                                                   clock_type::duration time_limit,
                                                   batch_take<Outcome> take,
                                                   std::function<void(std::size_t, Outcome, item_end)> finish)
{
    co_await asio::this_coro::throw_if_cancelled(false);
    auto executor = co_await asio::this_coro::executor;
    workers = std::max<std::size_t>(workers, 1);
    pulled_state<Outcome> batch(executor, workers, window, take, finish);
    std::vector<asio::cancellation_signal> stop(workers);
    std::size_t running = workers;
    // Both the deadline and, cancelled by the last worker, the "all done" signal.
    asio::steady_timer wake(executor, deadline_after(time_limit));
    for (std::size_t w = 0; w < workers; ++w)
    {
        // A worker ends by itself, or by an exception: its item then ends as failed.
        auto on_exit = [&, w](std::exception_ptr failure) {
            if (failure && batch.running[w])
                end_item(batch, *std::exchange(batch.running[w], std::nullopt), Outcome{}, item_end::failed);
            if (--running == 0)
                wake.cancel();
        };
        spawn_cancellable(executor, worker(batch, w), stop[w].slot(), std::move(on_exit));
    }
    co_await wake.async_wait(use_tuple);
    pulled_batch_end end;
    if (running > 0)
    {
        // The deadline passed, or the caller cancelled: stop the workers and wait for them
        // (every step honours cancellation promptly); each tells `finish` of its item.
        asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
        end.cancelled = state.cancelled() != asio::cancellation_type::none;
        end.stopped = !end.cancelled;
        if (end.cancelled)
            co_await asio::this_coro::reset_cancellation_state();
        batch.stopping = end.cancelled ? item_end::cancelled : item_end::stopped;
        batch.window_moved.cancel();
        batch.item_ready->timer.cancel();
        for (auto& signal : stop)
            signal.emit(asio::cancellation_type::terminal);
        while (running > 0)
        {
            wake.expires_at(clock_type::time_point::max());
            co_await wake.async_wait(use_tuple);
        }
    }
    end.taken = batch.taken;
    co_return end;
}

template asio::awaitable<pulled_batch_end>
run_pulled_batch(std::size_t, std::size_t, clock_type::duration, batch_take<rates_outcome>,
                 std::function<void(std::size_t, rates_outcome, item_end)>);
template asio::awaitable<pulled_batch_end>
run_pulled_batch(std::size_t, std::size_t, clock_type::duration, batch_take<fetch_outcome>,
                 std::function<void(std::size_t, fetch_outcome, item_end)>);

template <class Outcome>
asio::awaitable<basic_batch_result<Outcome>>
run_ordered_batch(std::vector<Outcome> outcomes, std::size_t workers, clock_type::duration time_limit,
                  std::function<asio::awaitable<Outcome>(std::size_t)> fetch,
                  std::function<void(std::size_t, const Outcome&)> observe)
{
    co_await asio::this_coro::throw_if_cancelled(false);
    basic_batch_result<Outcome> result;
    result.outcomes = std::move(outcomes);
    const std::size_t count = result.outcomes.size();
    if (count == 0)
        co_return result;

    std::vector<bool> finished(count, false);
    const auto queued = clock_type::now(); // every item of a batch is queued when it starts
    batch_take<Outcome> take = [&](std::size_t index, const batch_waker&) -> pulled_item<Outcome> {
        if (index >= count)
            return {};
        return {batch_task<Outcome>([&fetch, index] { return fetch(index); })};
    };
    std::function<void(std::size_t, Outcome, item_end)> finish = [&](std::size_t index, Outcome outcome,
                                                                      item_end how) {
        auto& kept = result.outcomes[index];
        if (how == item_end::finished)
        {
            outcome.timing.queued = queued;
            kept = std::move(outcome);
            finished[index] = true;
            if (observe)
                observe(index, kept);
        }
        else if (how != item_end::failed)
        {
            // Stopped meanwhile: accounted for below, saying what had happened.
            kept.attempts = outcome.attempts;
            kept.rate_limited = outcome.rate_limited;
            kept.server_answered = outcome.server_answered || outcome.rate_limited > 0;
        }
    };
    auto end = co_await run_pulled_batch<Outcome>(std::min(workers, count), 0, time_limit, take, finish);
    if (end.cancelled)
        result.error = asio::error::operation_aborted;
    for (std::size_t i = 0; i < count; ++i)
    {
        if (finished[i])
            continue;
        auto& outcome = result.outcomes[i];
        outcome.diag = {};
        if (end.cancelled)
        {
            outcome.error = asio::error::operation_aborted;
            outcome.diag.set_client_message("cancelled before the answer came");
        }
        else if (!end.stopped)
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
