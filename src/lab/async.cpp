// The asynchronous strategies: every request concurrent on one event loop, optionally behind the
// asynchronous throttle; and the offload bridge awaiting a blocking client on a thread pool.

#include <fxrates/blocking_client.hpp>
#include <fxrates/client.hpp>
#include <fxrates/offload.hpp>

#include "lab/measure.hpp"
#include "lab/strategies.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <mutex>
#include <vector>

namespace fxrates::detail {

namespace asio = boost::asio;

void run_async(const strategy_params& params, bool throttled, run_report& report)
{
    asio::io_context context(1);
    auto client_settings = params.client;
    if (throttled)
    {
        client_settings.rate = params.throttle_rate;
        client_settings.burst = params.throttle_burst;
    }
    client api(context, client_settings);
    asio::cancellation_signal cancel;
    api.async_get_rates_batch(params.bases, params.query, params.on_outcome,
                              asio::bind_cancellation_slot(cancel.slot(), [&](error_code, std::vector<rates_outcome> outcomes) {
                                  report.outcomes = std::move(outcomes);
                              }));
    // A stop request comes from another thread: hand it to the loop, which owns the signal.
    std::stop_callback on_stop(params.stop, [&] {
        asio::post(context, [&] { cancel.emit(asio::cancellation_type::terminal); });
    });
    context.run();
    report.peak_threads = std::max(report.peak_threads, thread_count());
}

namespace {

// Blocking clients for the pool's threads: each job borrows one, so a connection is kept alive
// per thread, as `requests.Session` per thread would.
class client_shelf
{
public:
    explicit client_shelf(const client_params& params) : params_(params) {}

    blocking_client take()
    {
        std::lock_guard lock(mutex_);
        if (shelf_.empty())
            return blocking_client(params_);
        auto api = std::move(shelf_.back());
        shelf_.pop_back();
        return api;
    }

    void give_back(blocking_client api)
    {
        std::lock_guard lock(mutex_);
        shelf_.push_back(std::move(api));
    }

private:
    const client_params& params_;
    std::mutex mutex_;
    std::vector<blocking_client> shelf_;
};

asio::awaitable<void> fetch_offloaded(asio::thread_pool::executor_type pool, client_shelf& shelf,
                                      const strategy_params& params, std::chrono::steady_clock::time_point deadline,
                                      std::size_t index, run_report& report)
{
    auto queued = std::chrono::steady_clock::now();
    auto base = params.bases[index];
    auto job = [&shelf, &params, base, deadline] {
        if (auto refused = refuse_start(params, base, deadline))
            return std::move(*refused);
        auto api = shelf.take();
        auto outcome = fetch_by_deadline(api, params, base, deadline);
        shelf.give_back(std::move(api));
        return outcome;
    };
    auto [ec, outcome] = co_await async_offload(pool, std::move(job), asio::as_tuple(asio::use_awaitable));
    if (ec)
    {
        outcome.base = base;
        outcome.error = ec;
        if (ec == asio::error::operation_aborted)
            outcome.diag.set_client_message("stopped before the answer came");
    }
    outcome.timing.queued = queued;
    report.outcomes[index] = std::move(outcome);
    if (params.on_outcome)
        params.on_outcome(index, report.outcomes[index]);
}

} // namespace

void run_offload(const strategy_params& params, run_report& report)
{
    asio::io_context context(1);
    asio::thread_pool pool(std::max<std::size_t>(1, params.workers));
    client_shelf shelf(params.client);
    report.outcomes.resize(params.bases.size());
    std::vector<asio::cancellation_signal> cancel(params.bases.size());
    // Jobs not started by the batch's deadline skip their request; those under way end there.
    auto deadline = batch_deadline(params);
    for (std::size_t i = 0; i < params.bases.size(); ++i)
        asio::co_spawn(context, fetch_offloaded(pool.get_executor(), shelf, params, deadline, i, report),
                       asio::bind_cancellation_slot(cancel[i].slot(), asio::detached));
    // On stop, every coroutine abandons its wait at once; jobs not started yet skip their request.
    std::stop_callback on_stop(params.stop, [&] {
        asio::post(context, [&] {
            for (auto& signal : cancel)
                signal.emit(asio::cancellation_type::terminal);
        });
    });
    context.run(); // the bridge's work guards keep it running until every result is back
    // The pool's threads and the shelf's clients (each with the resolver thread Asio started at
    // its first lookup) are all still there.
    report.peak_threads = std::max(report.peak_threads, thread_count());
    pool.join();
}

} // namespace fxrates::detail
