// The book's threaded programs, without their flaws: only the calling thread gathers results,
// in input order; a worker's failure becomes that base's error and never hangs the pool; the
// throttle blocks for exactly as long as needed instead of polling.

#include <fxrates/blocking_client.hpp>
#include <fxrates/blocking_throttle.hpp>

#include "client/batch.hpp"
#include "client/deadline.hpp"
#include "client/deadline.hpp"
#include "lab/measure.hpp"
#include "lab/strategies.hpp"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

namespace fxrates::detail {

namespace {

// A queue between threads; `pop` blocks until an item or the end.
template <class T>
class blocking_queue
{
public:
    void push(T item)
    {
        {
            std::lock_guard lock(mutex_);
            items_.push_back(std::move(item));
        }
        ready_.notify_one();
    }

    /// Ends the queue: `pop` returns empty once it is drained.
    void close()
    {
        {
            std::lock_guard lock(mutex_);
            closed_ = true;
        }
        ready_.notify_all();
    }

    std::optional<T> pop()
    {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [&] { return closed_ || !items_.empty(); });
        if (items_.empty())
            return std::nullopt;
        T item = std::move(items_.front());
        items_.pop_front();
        return item;
    }

private:
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<T> items_;
    bool closed_ = false;
};

// Fetches one base by `deadline` (the batch's), turning anything thrown into that base's error.
rates_outcome fetch_guarded(std::optional<blocking_client>& api, const strategy_params& params, currency_code base,
                            std::chrono::steady_clock::time_point deadline)
{
    if (auto refused = refuse_start(params, base, deadline))
        return std::move(*refused);
    try
    {
        if (!api)
            api.emplace(params.client);
        return fetch_by_deadline(*api, params, base, deadline);
    }
    catch (const std::exception& e)
    {
        // Not the server's doing: the client could not be set up (a CA file that holds no
        // certificate, say), or the thread ran out of memory.
        return failed_outcome(base, std::string("the worker failed: ") + e.what(), errc::worker_failed);
    }
}

} // namespace

void run_sequential(const strategy_params& params, run_report& report)
{
    std::optional<blocking_client> api;
    auto deadline = batch_deadline(params);
    report.outcomes.reserve(params.bases.size());
    for (auto base : params.bases)
    {
        auto queued = std::chrono::steady_clock::now();
        auto outcome = fetch_guarded(api, params, base, deadline);
        outcome.timing.queued = queued;
        report.outcomes.push_back(std::move(outcome));
        if (params.on_outcome)
            params.on_outcome(report.outcomes.size() - 1, report.outcomes.back());
        if (report.outcomes.size() == 1)
            report.peak_threads = std::max(report.peak_threads, thread_count()); // the client's own, now started
    }
}

void run_thread_per_item(const strategy_params& params, run_report& report)
{
    report.outcomes.resize(params.bases.size());
    std::vector<std::thread> threads;
    threads.reserve(params.bases.size());
    auto queued = std::chrono::steady_clock::now();
    auto deadline = batch_deadline(params);
    thread_peak peak(report.peak_threads);
    for (std::size_t i = 0; i < params.bases.size(); ++i)
    {
        try
        {
            // Each thread writes only its own slot; the calling thread reads them after join.
            threads.emplace_back([&, i] {
                std::optional<blocking_client> api;
                report.outcomes[i] = fetch_guarded(api, params, params.bases[i], deadline);
                report.outcomes[i].timing.queued = queued;
                if (params.on_outcome)
                    params.on_outcome(i, report.outcomes[i]);
                peak.sample();
            });
        }
        catch (const std::system_error& e)
        {
            // Out of threads: this base fails, and the ones started still finish.
            report.outcomes[i] = failed_outcome(params.bases[i], std::string("cannot start a thread: ") + e.what());
        }
    }
    peak.sample();
    for (auto& thread : threads)
        thread.join();
    report.peak_threads = peak.most();
}

void run_thread_pool(const strategy_params& params, bool throttled, run_report& report)
{
    struct work
    {
        std::size_t index;
        std::chrono::steady_clock::time_point queued;
    };
    struct result
    {
        std::size_t index;
        rates_outcome outcome;
    };
    blocking_queue<work> work_queue;
    blocking_queue<result> results;
    std::optional<blocking_throttle> throttle;
    // The throttled pool has the book's throttle; the plain one keeps the client's own limit, if any.
    double rate = throttled ? params.throttle_rate : params.client.rate;
    if (rate > 0)
        throttle.emplace(rate, throttled ? params.throttle_burst : params.client.burst);
    // A stop wakes workers waiting for the throttle; they then skip what is left.
    std::stop_callback on_stop(params.stop, [&] {
        if (throttle)
            throttle->close();
    });

    auto deadline = batch_deadline(params);
    thread_peak peak(report.peak_threads);
    auto worker = [&] {
        std::optional<blocking_client> api;
        bool sampled = false;
        while (auto item = work_queue.pop())
        {
            auto base = params.bases[item->index];
            rates_outcome outcome;
            auto granted = std::chrono::steady_clock::now();
            auto wait = throttle ? throttle->acquire_until(std::min(deadline, deadline_after(params.client.queue_timeout)))
                                 : blocking_throttle::acquire_result::granted;
            if (wait == blocking_throttle::acquire_result::granted)
            {
                granted = std::chrono::steady_clock::now();
                outcome = fetch_guarded(api, params, base, deadline);
                if (!std::exchange(sampled, true))
                    peak.sample();
            }
            else if (wait == blocking_throttle::acquire_result::closed)
                outcome = failed_outcome(base, "stopped while waiting for the rate limit",
                                         boost::asio::error::operation_aborted);
            else if (std::chrono::steady_clock::now() >= deadline)
                outcome = failed_outcome(base, batch_deadline_message(false, params.client.batch_timeout),
                                         errc::batch_deadline);
            else
                outcome = failed_outcome(
                    base, rate_limit_held_message(limit_text("queue timeout", params.client.queue_timeout)),
                    boost::asio::error::timed_out);
            outcome.timing.queued = item->queued;
            outcome.timing.granted = granted;
            results.push({item->index, std::move(outcome)});
        }
    };

    std::size_t count = params.bases.size();
    std::size_t workers = std::max<std::size_t>(1, std::min(params.workers, std::max<std::size_t>(count, 1)));
    std::vector<std::thread> threads;
    try
    {
        for (std::size_t w = 0; w < workers; ++w)
            threads.emplace_back(worker);
    }
    catch (const std::system_error&)
    {
        // Fewer workers than asked for; with none at all, every base fails below.
    }
    auto queued = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < count; ++i)
        work_queue.push({i, queued});
    work_queue.close(); // workers end once the queue is drained
    peak.sample();

    // Only this thread gathers: every base yields exactly one result, so this cannot hang.
    report.outcomes.resize(count);
    if (threads.empty())
    {
        for (std::size_t i = 0; i < count; ++i)
            report.outcomes[i] = failed_outcome(params.bases[i], "cannot start any worker thread");
        report.peak_threads = peak.most();
        return;
    }
    for (std::size_t received = 0; received < count; ++received)
    {
        auto item = results.pop();
        report.outcomes[item->index] = std::move(item->outcome);
        if (params.on_outcome)
            params.on_outcome(item->index, report.outcomes[item->index]);
    }
    for (auto& thread : threads)
        thread.join();
    report.peak_threads = peak.most();
}

} // namespace fxrates::detail
