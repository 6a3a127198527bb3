// The process pool: worker processes started fresh from the fxrates program (posix_spawn, never
// a bare fork of this threaded process), fed one base at a time over a pipe, answering one JSON
// line each. An io_context run on the calling thread watches them all, each pipe a
// posix::stream_descriptor: a worker that dies is noticed at once and its base reported as failed,
// a worker slow to read its input holds up no other, and a timer keeps the batch's time limit, so
// nothing ever hangs.

#include <fxrates/blocking_client.hpp>

#include "client/batch.hpp"
#include "lab/child_process.hpp"
#include "lab/measure.hpp"
#include "lab/strategies.hpp"
#include "lab/wire.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <iostream>
#include <memory>
#include <stop_token>
#include <string>
#include <utility>


namespace fxrates::detail
{

namespace
{

namespace asio = boost::asio;

// One answer is a JSON line of one base's outcome: a few KiB. A worker that sends a megabyte with
// no end of line is not answering.
constexpr std::size_t max_answer_line = 1024 * 1024;

// Pending operations refer to its members: it stays at one address (held by unique_ptr).
struct worker_process
{
    explicit worker_process(asio::io_context& context) : to_worker(context), from_worker(context) {}

    pid_t pid = -1;
    asio::posix::stream_descriptor to_worker, from_worker;
    std::array<char, 16384> chunk; // what one read brings
    std::string received;
    // What waits to be written, and what a write under way holds: one write at a time per pipe.
    std::string outbox, sending;
    bool writing = false;
    bool no_more_jobs = false; // its input is closed once the outbox is written
    std::optional<std::size_t> job;
    bool alive = false;
    bool answered = false; // once at least: its client and resolver thread have started
    std::size_t threads = 0; // as last read
};

using worker_list = std::vector<std::unique_ptr<worker_process>>;

std::string describe_exit(int status)
{
    if (WIFSIGNALED(status))
        return std::string("was killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
               ::strsignal(WTERMSIG(status)) + ")";
    if (WIFEXITED(status))
        return "exited with status " + std::to_string(WEXITSTATUS(status));
    return "stopped";
}

// Ends a worker: sends it `signal` (none if 0), closes our ends of its pipes (so it sees the end of
// its input; our operations on them complete with operation_aborted) and waits for it. Returns its
// wait status; its resource use goes to `usage`.
int end_worker(worker_process& worker, int signal, rusage* usage = nullptr)
{
    if (signal != 0)
        ::kill(worker.pid, signal);
    boost::system::error_code ignored;
    worker.to_worker.close(ignored);
    worker.from_worker.close(ignored);
    worker.alive = false;
    return wait_for_child(worker.pid, usage);
}

// Ends a worker as end_worker does, counting it in the report: reaping counts its CPU in this
// process's children; its peak memory is added to the pool's, since the workers run side by side.
int reap(worker_process& worker, int signal, run_report& report)
{
    // Read while it runs: once it has ended only getrusage's figure is left, which counts this
    // process's own peak too (see peak_rss_kib).
    long peak = peak_rss_kib_of(worker.pid); // 0 if it has already ended
    rusage usage{};
    int status = end_worker(worker, signal, &usage);
    report.peak_rss_kib += peak != 0 ? peak : usage.ru_maxrss;
    return status;
}

// Starts `program worker`, with this process's signal mask (see spawn_child): on a stop, the pool
// ends its workers itself. The worker joins `workers` before its pipes go to Asio, so that it is
// ended whatever happens next.
bool spawn_worker(asio::io_context& context, const std::string& program, worker_list& workers,
                  std::string& why)
{
    auto child = spawn_child(program, "worker", why);
    if (!child)
        return false;
    auto& worker = *workers.emplace_back(std::make_unique<worker_process>(context));
    worker.pid = child->pid;
    worker.alive = true;
    adopt_pipe(worker.to_worker, child->to_child);
    adopt_pipe(worker.from_worker, child->from_child);
    return true;
}

// The pool at work: every handler runs on the calling thread, in io_context::run. Once finished
// (every base answered, every worker gone, the deadline passed, or a stop request), the loop
// stops and no handler runs again; what is still open is reported by run_process_pool.
class pool_supervisor
{
public:
    pool_supervisor(asio::io_context& context, const strategy_params& params, run_report& report,
                    worker_list& workers)
        : context_(context), params_(params), report_(report), workers_(workers), count_(params.bases.size()),
          answered_(count_, false), remaining_(count_), deadline_timer_(context)
    {
    }

    bool answered(std::size_t i) const { return answered_[i]; }
    std::size_t remaining() const { return remaining_; }

    // Sends each worker the settings and its first base, then watches them until finished, the
    // `deadline` passed or a stop requested.
    void run(const std::string& settings, std::chrono::steady_clock::time_point deadline)
    {
        for (auto& worker : workers_)
        {
            worker->outbox = settings;
            assign(*worker);
        }
        // Threads of this process and its workers. Each worker's count is read at its start and
        // again at its first answer, as its client starts its resolver thread at its first lookup.
        for (auto& worker : workers_)
            worker->threads = worker->alive ? thread_count_of(worker->pid) : 0;
        sample_threads();
        for (auto& worker : workers_)
            read(*worker);
        deadline_timer_.expires_at(deadline);
        deadline_timer_.async_wait(
            [this](boost::system::error_code failed)
            {
                if (!failed)
                    finish();
            });
        // Called on the thread that asks for the stop: post is what may be done from there.
        std::stop_callback on_stop(params_.stop, [this] { asio::post(context_, [this] { finish(); }); });
        if (!params_.stop.stop_requested())
            context_.run();
    }

private:
    void finish()
    {
        finished_ = true;
        context_.stop();
    }

    void sample_threads()
    {
        std::size_t children_threads = 0;
        for (const auto& worker : workers_)
            children_threads += worker->alive ? worker->threads : 0;
        report_.peak_threads = std::max(report_.peak_threads, thread_count() + children_threads);
    }

    // Ends a worker that is gone or no longer listened to; its open base fails with its exit status.
    void retire(worker_process& worker)
    {
        if (!worker.alive)
            return;
        int status = reap(worker, 0, report_);
        if (worker.job && !answered_[*worker.job])
        {
            report_.outcomes[*worker.job] =
                failed_outcome(params_.bases[*worker.job],
                               "worker process " + std::to_string(worker.pid) + " " + describe_exit(status));
            answered_[*worker.job] = true;
            if (params_.on_outcome)
                params_.on_outcome(*worker.job, report_.outcomes[*worker.job]);
            --remaining_;
        }
        worker.job.reset();
        if (remaining_ == 0 ||
            std::none_of(workers_.begin(), workers_.end(), [](const auto& w) { return w->alive; }))
            finish(); // nothing left to wait for, or no worker left to answer
    }

    // Gives the worker the next base, or tells it there is no more work.
    void assign(worker_process& worker)
    {
        worker.job.reset();
        if (next_ >= count_)
            worker.no_more_jobs = true;
        else
        {
            worker.job = next_++;
            worker.outbox += encode_job(*worker.job, params_.bases[*worker.job]);
        }
        write(worker);
    }

    // Writes what the outbox holds without waiting for it: a worker slow to read its input holds
    // up only itself.
    void write(worker_process& worker)
    {
        if (worker.writing || !worker.alive)
            return;
        if (worker.outbox.empty())
        {
            if (worker.no_more_jobs)
            {
                boost::system::error_code ignored;
                worker.to_worker.close(ignored);
            }
            return;
        }
        worker.sending = std::exchange(worker.outbox, {});
        worker.writing = true;
        asio::async_write(worker.to_worker, asio::buffer(worker.sending),
                          [this, &worker](boost::system::error_code failed, std::size_t)
                          {
                              worker.writing = false;
                              if (finished_ || !worker.alive)
                                  return;
                              if (failed)
                                  retire(worker); // it closed its input: it has ended, or is ending
                              else
                                  write(worker);
                          });
    }

    void read(worker_process& worker)
    {
        if (!worker.alive)
            return;
        worker.from_worker.async_read_some(asio::buffer(worker.chunk),
                                           [this, &worker](boost::system::error_code failed, std::size_t size)
                                           {
                                               if (!finished_ && worker.alive)
                                                   on_read(worker, failed, size);
                                           });
    }

    void on_read(worker_process& worker, boost::system::error_code failed, std::size_t size)
    {
        if (failed)
        {
            retire(worker); // the end of its output (or a pipe we cannot read): it has ended
            return;
        }
        worker.received.append(worker.chunk.data(), size);
        if (worker.received.size() > max_answer_line && worker.received.find('\n') == std::string::npos)
        {
            // Not an answer of ours: stop listening to it rather than fill memory.
            ::kill(worker.pid, SIGKILL);
            retire(worker);
            return;
        }
        std::size_t newline;
        while ((newline = worker.received.find('\n')) != std::string::npos)
        {
            auto line = worker.received.substr(0, newline);
            worker.received.erase(0, newline + 1);
            auto answer = decode_outcome(line);
            if (!answer || answer->first >= count_ || answered_[answer->first])
                continue; // not a well-formed answer to an open job: ignored, the job stays open
            answer->second.timing.queued = queued_;
            report_.outcomes[answer->first] = std::move(answer->second);
            answered_[answer->first] = true;
            if (params_.on_outcome)
                params_.on_outcome(answer->first, report_.outcomes[answer->first]);
            --remaining_;
            bool first_answer = !std::exchange(worker.answered, true);
            if (worker.job == answer->first)
                assign(worker);
            if (first_answer)
            {
                worker.threads = thread_count_of(worker.pid);
                sample_threads();
            }
        }
        if (remaining_ == 0)
            finish();
        else
            read(worker);
    }

    asio::io_context& context_;
    const strategy_params& params_;
    run_report& report_;
    worker_list& workers_;
    const std::size_t count_;
    std::vector<bool> answered_;
    std::size_t next_ = 0, remaining_;
    const std::chrono::steady_clock::time_point queued_ = std::chrono::steady_clock::now();
    asio::steady_timer deadline_timer_;
    bool finished_ = false;
};

} // namespace

void run_process_pool(const strategy_params& params, run_report& report)
{
    const std::size_t count = params.bases.size();
    report.outcomes.resize(count);
    for (std::size_t i = 0; i < count; ++i)
        report.outcomes[i].base = params.bases[i];
    if (count == 0)
        return;

    ignore_sigpipe();

    std::string program = params.worker_program.empty() ? "/proc/self/exe" : params.worker_program;
    // The workers get their bases one job at a time, not in the settings, which stay small.
    const std::string settings = [&]
    {
        strategy_params without_bases = params;
        without_bases.bases.clear();
        return encode_settings(without_bases);
    }();

    // One thread (this one) runs it; it outlives the workers' descriptors and the supervisor's timer.
    asio::io_context context(1);
    worker_list workers;
    // Whatever ends this function, an exception included, no worker is left running or unreaped
    // and no pipe left open.
    struct workers_guard
    {
        worker_list& workers;
        ~workers_guard()
        {
            for (auto& worker : workers)
                if (worker->alive)
                    end_worker(*worker, SIGKILL);
        }
    } cleanup{workers};
    std::string why;
    std::size_t wanted = std::max<std::size_t>(1, std::min(params.workers, count));
    for (std::size_t w = 0; w < wanted; ++w)
        spawn_worker(context, program, workers, why);
    if (workers.empty())
    {
        for (std::size_t i = 0; i < count; ++i)
            report.outcomes[i] =
                failed_outcome(params.bases[i], "no worker process could be started: " + why);
        return;
    }

    auto deadline = batch_deadline(params);
    pool_supervisor supervisor(context, params, report, workers);
    supervisor.run(settings, deadline);

    // Whatever is still open: stopped, the deadline passed, or every worker died.
    bool too_late = std::chrono::steady_clock::now() >= deadline;
    for (std::size_t i = 0; i < count; ++i)
    {
        if (supervisor.answered(i))
            continue;
        bool started = std::any_of(workers.begin(), workers.end(),
                                   [i](const auto& w) { return w->alive && w->job == i; });
        if (params.stop.stop_requested())
            report.outcomes[i] = failed_outcome(params.bases[i], "stopped before the answer came",
                                                boost::asio::error::operation_aborted);
        else if (too_late)
            report.outcomes[i] = failed_outcome(params.bases[i],
                                                batch_deadline_message(started, params.client.batch_timeout),
                                                errc::batch_deadline);
        else
            report.outcomes[i] = failed_outcome(params.bases[i], "no worker process was left to answer");
    }
    for (auto& worker : workers)
    {
        if (worker->alive)
            reap(*worker, supervisor.remaining() > 0 ? SIGKILL : 0, report);
    }
}

int run_process_pool_worker()
{
    std::ios::sync_with_stdio(false);
    std::string line;
    if (!std::getline(std::cin, line))
        return 0;
    strategy_params params;
    try
    {
        params = decode_settings(line);
    }
    catch (const std::exception& e)
    {
        std::cerr << "fxrates worker: " << e.what() << '\n';
        return 1;
    }
    std::optional<blocking_client> api;
    while (std::getline(std::cin, line))
    {
        auto job = decode_job(line);
        if (!job)
            continue;
        if (!api)
            api.emplace(params.client);
        auto outcome = api->get_rates(job->second, params.query);
        std::cout << encode_outcome(job->first, outcome) << std::flush;
    }
    return 0;
}

} // namespace fxrates::detail

namespace fxrates
{

int run_process_pool_worker()
{
    return detail::run_process_pool_worker();
}

} // namespace fxrates
