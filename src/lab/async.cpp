// The asynchronous strategies: every request concurrent on one event loop, optionally behind the
// asynchronous throttle; and the offload bridge awaiting a blocking client on a thread pool.

#include <fxrates/blocking_client.hpp>
#include <fxrates/client.hpp>
#include <fxrates/offload.hpp>

#include "client/origin_lookahead.hpp"
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

#include <functional>
#include <mutex>
#include <vector>

namespace fxrates::detail {

namespace asio = boost::asio;

template <class Job>
void run_async(const Job& job, bool throttled, report_of<Job>& report)
{
    const auto& params = job.params();
    asio::io_context context(1);
    auto client_settings = params.client;
    // The throttled variant has the book's throttle, and keeps the client's own rate if that is lower.
    if (throttled && params.throttle_rate > 0 && !(params.client.rate > 0 && params.client.rate <= params.throttle_rate))
    {
        client_settings.rate = params.throttle_rate;
        client_settings.burst = params.throttle_burst;
    }
    client_settings.thread_safe = false; // this thread alone runs the loop and uses the client
    client api(context, client_settings);
    asio::cancellation_signal cancel;
    auto keep = [&](error_code, std::vector<typename Job::outcome_type> outcomes) {
        report.outcomes = std::move(outcomes);
    };
    job.async_batch(api, asio::bind_cancellation_slot(cancel.slot(), std::move(keep)));
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
    explicit client_shelf(client_params params) : params_(std::move(params)) {}

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
    const client_params params_;
    std::mutex mutex_;
    std::vector<blocking_client> shelf_;
};

template <class Job>
asio::awaitable<void> fetch_offloaded(asio::thread_pool::executor_type pool, client_shelf& shelf, origin_gate& gate,
                                      const Job& job, time_point deadline, time_point queued, std::size_t index,
                                      report_of<Job>& report)
{
    auto work = [&shelf, &gate, &job, index, deadline] {
        if (auto refused = refuse_start(job, index, deadline))
            return std::move(*refused);
        auto api = shelf.take();
        auto outcome = fetch_gated(gate, api, job, index, deadline);
        shelf.give_back(std::move(api));
        return outcome;
    };
    auto [ec, outcome] = co_await async_offload(pool, std::move(work), asio::as_tuple(asio::use_awaitable));
    if (ec)
        outcome = job.failed(index, ec == asio::error::operation_aborted ? "stopped before the answer came" : "",
                             ec);
    outcome.timing.queued = queued;
    report.outcomes[index] = std::move(outcome);
    job.observe(index, report.outcomes[index]);
}

} // namespace

template <class Job>
void run_offload(const Job& job, report_of<Job>& report)
{
    const auto& params = job.params();
    asio::io_context context(1);
    asio::thread_pool pool(std::max<std::size_t>(1, params.workers));
    origin_gate gate(params.client, params.stop); // the pool's threads share the limits per origin
    client_shelf shelf(threads_client(params.client, job.size(), &gate));
    report.outcomes.resize(job.size());
    // Jobs not started by the batch's deadline skip their request; those under way end there.
    // A stop reaches the blocking calls themselves (`params.stop`): those under way return at once
    // and those not started skip their request. The coroutines are not cancelled: one that
    // abandoned its wait would report its item while the work still ran, writing into a sink its
    // owner then destroyed (a crash on Ctrl-C, found by a probe).
    auto deadline = job.deadline();
    const auto queued = std::chrono::steady_clock::now();
    // An item goes to the pool once its origin has room (the client's limit per origin): one of a
    // host at its limit waits aside here, not on a pool thread at the gate, where it held up the
    // other hosts' items queued behind it.
    origin_lookahead<std::size_t> lookahead(params.client.max_connections_per_origin, job.size());
    std::function<void(std::size_t)> start = [&](std::size_t i) {
        asio::co_spawn(context, fetch_offloaded(pool.get_executor(), shelf, gate, job, deadline, queued, i, report),
                       [&, i](std::exception_ptr) {
                           if (lookahead.ended(job.origin_of(i)))
                               while (auto next = lookahead.take_parked())
                                   start(next->number);
                       });
    };
    for (std::size_t i = 0; i < job.size(); ++i)
        if (lookahead.offer(job.origin_of(i), i, i))
            start(i);
    context.run(); // the bridge's work guards keep it running until every result is back
    // The pool's threads and the shelf's clients are all still there.
    report.peak_threads = std::max(report.peak_threads, thread_count());
    pool.join();
}

#define FXRATES_INSTANTIATE_ASYNC(JOB)                                \
    template void run_async<JOB>(const JOB&, bool, report_of<JOB>&); \
    template void run_offload<JOB>(const JOB&, report_of<JOB>&);
FXRATES_FOR_EACH_JOB(FXRATES_INSTANTIATE_ASYNC)

} // namespace fxrates::detail
