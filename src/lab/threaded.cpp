// The book's threaded programs, without their flaws: only the calling thread gathers results,
// in input order; a worker's failure becomes that item's error and never hangs the pool; the
// throttle blocks for exactly as long as needed instead of polling.

#include <fxrates/blocking_client.hpp>
#include <fxrates/blocking_throttle.hpp>

#include "client/batch.hpp"
#include "client/deadline.hpp"
#include "client/origin_lookahead.hpp"
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

// A queue between threads; `pop` blocks until an item comes.
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

    T pop()
    {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [&] { return !items_.empty(); });
        T item = std::move(items_.front());
        items_.pop_front();
        return item;
    }

private:
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<T> items_;
};

// The thread pool's work, handed out so that a thread never takes an item whose origin is at its
// limit while another could start: those wait aside (origin_lookahead), holding no thread, and go
// first once their origin has room. From a plain queue, as in the article's program, every thread
// could end up waiting in one slow host's line while the other hosts' items sat behind them.
template <class Job>
class pool_work
{
public:
    pool_work(const Job& job, std::size_t per_origin) : job_(job), lookahead_(per_origin, job.size()) {}

    /// The next item to fetch, counted as under way until `ended`; none once every item has been
    /// handed out. Waits while all that is left waits for its origin. After `stop`, hands out what
    /// is left at once, whatever the limits (each then ends without a request).
    std::optional<std::size_t> pop()
    {
        std::unique_lock lock(mutex_);
        for (;;)
        {
            if (stopped_)
            {
                if (!drained_.empty())
                    return take_front(drained_);
                if (next_ < job_.size())
                    return next_++;
                return std::nullopt;
            }
            auto next = next_startable(lookahead_, next_, job_.size(),
                                       [this](std::size_t i) -> const origin& { return job_.origin_of(i); });
            const bool handed_out = lookahead_.parked() == 0 && next_ == job_.size();
            if (next)
            {
                if (handed_out)
                    changed_.notify_all(); // the last one: the threads waiting for one have none left
                return next;
            }
            if (handed_out)
                return std::nullopt;
            changed_.wait(lock);
        }
    }

    /// Item `index`, handed out by `pop`, has ended: an item waiting for its origin may go.
    void ended(std::size_t index)
    {
        bool room = false;
        {
            std::lock_guard lock(mutex_);
            room = !stopped_ && lookahead_.ended(job_.origin_of(index));
        }
        if (room)
            changed_.notify_one();
    }

    void stop()
    {
        {
            std::lock_guard lock(mutex_);
            stopped_ = true;
            for (auto& parked : lookahead_.take_all())
                drained_.push_back(parked.number);
        }
        changed_.notify_all();
    }

private:
    static std::size_t take_front(std::deque<std::size_t>& items)
    {
        auto front = items.front();
        items.pop_front();
        return front;
    }

    const Job& job_;
    std::mutex mutex_;
    std::condition_variable changed_; // an item ended with one waiting for its origin, or the stop
    origin_lookahead<std::size_t> lookahead_;
    std::size_t next_ = 0;           // the next item not yet offered
    std::deque<std::size_t> drained_; // after the stop: the items that were waiting aside
    bool stopped_ = false;
};

// Fetches one item by `deadline` (the batch's), turning anything thrown into that item's error.
// The client, made at the thread's first item, has `settings` (threads_client's). With a `gate`:
// once it lets the item go (the threads' shared limits per origin).
template <class Job>
typename Job::outcome_type fetch_guarded(std::optional<blocking_client>& api, const client_params& settings,
                                         const Job& job, std::size_t index, time_point deadline,
                                         origin_gate* gate = nullptr)
{
    if (auto refused = refuse_start(job, index, deadline))
        return std::move(*refused);
    try
    {
        if (!api)
            api.emplace(settings);
        return gate ? fetch_gated(*gate, *api, job, index, deadline) : job.fetch(*api, index, deadline);
    }
    catch (const std::exception& e)
    {
        // Not the server's doing: the client could not be set up (a CA file that holds no
        // certificate, say), or the thread ran out of memory.
        return job.failed(index, std::string("the worker failed: ") + e.what(), errc::worker_failed);
    }
}

} // namespace

template <class Job>
void run_sequential(const Job& job, report_of<Job>& report)
{
    std::optional<blocking_client> api;
    const auto settings = threads_client(job.params().client, job.size(), nullptr);
    auto deadline = job.deadline();
    report.outcomes.reserve(job.size());
    for (std::size_t i = 0; i < job.size(); ++i)
    {
        auto queued = std::chrono::steady_clock::now();
        auto outcome = fetch_guarded(api, settings, job, i, deadline);
        outcome.timing.queued = queued;
        report.outcomes.push_back(std::move(outcome));
        job.observe(i, report.outcomes.back());
        if (report.outcomes.size() == 1)
            report.peak_threads = std::max(report.peak_threads, thread_count()); // the client's own, now started
    }
}

template <class Job>
void run_thread_per_item(const Job& job, report_of<Job>& report)
{
    report.outcomes.resize(job.size());
    std::vector<std::thread> threads;
    threads.reserve(job.size());
    auto queued = std::chrono::steady_clock::now();
    auto deadline = job.deadline();
    thread_peak peak(report.peak_threads);
    origin_gate gate(job.params().client, job.params().stop);
    const auto settings = threads_client(job.params().client, job.size(), &gate);
    for (std::size_t i = 0; i < job.size(); ++i)
    {
        try
        {
            // Each thread writes only its own slot; the calling thread reads them after join.
            threads.emplace_back([&, i] {
                std::optional<blocking_client> api;
                report.outcomes[i] = fetch_guarded(api, settings, job, i, deadline, &gate);
                report.outcomes[i].timing.queued = queued;
                job.observe(i, report.outcomes[i]);
                peak.sample();
            });
        }
        catch (const std::system_error& e)
        {
            // Out of threads: this item fails, and the ones started still finish.
            report.outcomes[i] = job.failed(i, std::string("cannot start a thread: ") + e.what());
        }
    }
    peak.sample();
    for (auto& thread : threads)
        thread.join();
    report.peak_threads = peak.most();
}

template <class Job>
void run_thread_pool(const Job& job, bool throttled, report_of<Job>& report)
{
    const auto& params = job.params();
    struct result
    {
        std::size_t index;
        typename Job::outcome_type outcome;
    };
    pool_work<Job> work(job, params.client.max_connections_per_origin);
    blocking_queue<result> results;
    std::optional<blocking_throttle> throttle;
    // The throttled pool has the book's throttle, for all its requests; every pool keeps the
    // client's own limits per origin, shared by its threads (the gate).
    if (throttled && params.throttle_rate > 0)
        throttle.emplace(params.throttle_rate, params.throttle_burst);
    origin_gate gate(params.client, params.stop);
    const auto settings = threads_client(params.client, job.size(), &gate);
    // A stop wakes workers waiting for the throttle or for an origin's room; they then skip what
    // is left.
    std::stop_callback on_stop(params.stop, [&] {
        work.stop();
        if (throttle)
            throttle->close();
    });
    const auto queued = std::chrono::steady_clock::now();

    auto deadline = job.deadline();
    thread_peak peak(report.peak_threads);
    auto worker = [&] {
        std::optional<blocking_client> api;
        bool sampled = false;
        while (auto item = work.pop())
        {
            const auto index = *item;
            typename Job::outcome_type outcome;
            auto granted = std::chrono::steady_clock::now();
            auto wait = throttle ? throttle->acquire_until(std::min(deadline, deadline_after(params.client.queue_timeout)))
                                 : blocking_throttle::acquire_result::granted;
            if (wait == blocking_throttle::acquire_result::granted)
            {
                granted = std::chrono::steady_clock::now();
                outcome = fetch_guarded(api, settings, job, index, deadline, &gate);
                if (!std::exchange(sampled, true))
                    peak.sample();
            }
            else if (wait == blocking_throttle::acquire_result::closed)
                outcome = job.failed(index, "stopped while waiting for the rate limit",
                                     boost::asio::error::operation_aborted);
            else if (std::chrono::steady_clock::now() >= deadline)
                outcome = job.failed(index, batch_deadline_message(false, params.client.batch_timeout),
                                     errc::batch_deadline);
            else
                outcome = job.failed(
                    index, rate_limit_held_message(limit_text("queue timeout", params.client.queue_timeout)),
                    boost::asio::error::timed_out);
            outcome.timing.queued = queued;
            outcome.timing.granted = granted;
            work.ended(index);
            results.push({index, std::move(outcome)});
        }
    };

    std::size_t count = job.size();
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
    peak.sample();

    // Only this thread gathers: every base yields exactly one result, so this cannot hang.
    report.outcomes.resize(count);
    if (threads.empty())
    {
        for (std::size_t i = 0; i < count; ++i)
            report.outcomes[i] = job.failed(i, "cannot start any worker thread");
        report.peak_threads = peak.most();
        return;
    }
    for (std::size_t received = 0; received < count; ++received)
    {
        auto item = results.pop();
        report.outcomes[item.index] = std::move(item.outcome);
        job.observe(item.index, report.outcomes[item.index]);
    }
    for (auto& thread : threads)
        thread.join();
    report.peak_threads = peak.most();
}

#define FXRATES_INSTANTIATE_THREADED(JOB)                                                   \
    template void run_sequential<JOB>(const JOB&, report_of<JOB>&);                        \
    template void run_thread_per_item<JOB>(const JOB&, report_of<JOB>&);                   \
    template void run_thread_pool<JOB>(const JOB&, bool, report_of<JOB>&);
FXRATES_FOR_EACH_JOB(FXRATES_INSTANTIATE_THREADED)

} // namespace fxrates::detail
