// The process pool: worker processes started fresh from the fxrates program (posix_spawn, never
// a bare fork of this threaded process), fed one base at a time over a pipe, answering one JSON
// line each. One thread here watches them all with poll(): a worker that dies is noticed at once
// and its base reported as failed, so nothing ever hangs.

#include <fxrates/blocking_client.hpp>

#include "client/batch.hpp"
#include "lab/child_process.hpp"
#include "lab/measure.hpp"
#include "lab/strategies.hpp"
#include "lab/wire.hpp"

#include <boost/asio/error.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <limits>
#include <string>
#include <utility>


namespace fxrates::detail
{

namespace
{

// One answer is a JSON line of one base's outcome: a few KiB. A worker that sends a megabyte with
// no end of line is not answering.
constexpr std::size_t max_answer_line = 1024 * 1024;

struct worker_process
{
    pid_t pid = -1;
    int to_worker = -1;
    int from_worker = -1;
    std::string received;
    std::optional<std::size_t> job;
    bool alive = false;
    bool answered = false; // once at least: its client and resolver thread have started
    std::size_t threads = 0; // as last read
};

std::string describe_exit(int status)
{
    if (WIFSIGNALED(status))
        return std::string("was killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
               ::strsignal(WTERMSIG(status)) + ")";
    if (WIFEXITED(status))
        return "exited with status " + std::to_string(WEXITSTATUS(status));
    return "stopped";
}

// Starts `program worker`, with this process's signal mask (see spawn_child): on a stop, the pool
// ends its workers itself.
std::optional<worker_process> spawn_worker(const std::string& program, std::string& why)
{
    auto child = spawn_child(program, "worker", why);
    if (!child)
        return std::nullopt;
    worker_process worker;
    worker.pid = child->pid;
    worker.to_worker = child->to_child;
    worker.from_worker = child->from_child;
    worker.alive = true;
    return worker;
}

// Ends a worker: sends it `signal` (none if 0), closes our ends of its pipes (so it sees the end of
// its input) and waits for it. Returns its wait status; its resource use goes to `usage`.
int end_worker(worker_process& worker, int signal, rusage* usage = nullptr)
{
    if (signal != 0)
        ::kill(worker.pid, signal);
    if (worker.to_worker >= 0)
        ::close(worker.to_worker);
    worker.to_worker = -1;
    ::close(worker.from_worker);
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
    std::vector<worker_process> workers;
    // Whatever ends this function, an exception included, no worker is left running or unreaped
    // and no pipe left open.
    struct workers_guard
    {
        std::vector<worker_process>& workers;
        ~workers_guard()
        {
            for (auto& worker : workers)
                if (worker.alive)
                    end_worker(worker, SIGKILL);
        }
    } cleanup{workers};
    std::string why;
    std::size_t wanted = std::max<std::size_t>(1, std::min(params.workers, count));
    for (std::size_t w = 0; w < wanted; ++w)
        if (auto worker = spawn_worker(program, why))
            workers.push_back(std::move(*worker));
    if (workers.empty())
    {
        for (std::size_t i = 0; i < count; ++i)
            report.outcomes[i] =
                failed_outcome(params.bases[i], "no worker process could be started: " + why);
        return;
    }

    auto queued = std::chrono::steady_clock::now();
    std::vector<bool> answered(count, false);
    std::size_t next = 0, remaining = count;
    // The workers get their bases one job at a time, not in the settings, which stay small (a
    // pipe's buffer holds them, so writing them cannot block on a worker that is slow to read).
    const std::string settings = [&] {
        strategy_params without_bases = params;
        without_bases.bases.clear();
        return encode_settings(without_bases);
    }();

    auto retire = [&](worker_process& worker)
    {
        int status = reap(worker, 0, report);
        if (worker.job && !answered[*worker.job])
        {
            report.outcomes[*worker.job] =
                failed_outcome(params.bases[*worker.job],
                               "worker process " + std::to_string(worker.pid) + " " + describe_exit(status));
            answered[*worker.job] = true;
            --remaining;
        }
        worker.job.reset();
    };
    // Gives the worker the next base, or tells it there is no more work.
    auto assign = [&](worker_process& worker)
    {
        worker.job.reset();
        if (next >= count)
        {
            ::close(worker.to_worker);
            worker.to_worker = -1;
            return;
        }
        worker.job = next++;
        if (!write_all(worker.to_worker, encode_job(*worker.job, params.bases[*worker.job])))
            retire(worker);
    };

    for (auto& worker : workers)
        if (!write_all(worker.to_worker, settings))
            retire(worker);
        else
            assign(worker);

    // Threads of this process and its workers. Each worker's count is read at its start and again
    // at its first answer, as its client starts its resolver thread at its first lookup.
    auto sample_threads = [&] {
        std::size_t children_threads = 0;
        for (const auto& worker : workers)
            children_threads += worker.alive ? worker.threads : 0;
        report.peak_threads = std::max(report.peak_threads, thread_count() + children_threads);
    };
    for (auto& worker : workers)
        worker.threads = worker.alive ? thread_count_of(worker.pid) : 0;
    sample_threads();

    auto deadline = batch_deadline(params);
    std::string wait_failure;
    {
        // A stop request must wake poll() at once: it makes a pipe that poll() watches readable.
        stop_wakeup wake(params.stop);
        while (remaining > 0 && !params.stop.stop_requested())
        {
            std::vector<pollfd> watched;
            std::vector<worker_process*> owners;
            if (wake.fd() >= 0)
            {
                watched.push_back({wake.fd(), POLLIN, 0});
                owners.push_back(nullptr);
            }
            for (auto& worker : workers)
                if (worker.alive)
                {
                    watched.push_back({worker.from_worker, POLLIN, 0});
                    owners.push_back(&worker);
                }
            if (std::none_of(workers.begin(), workers.end(), [](const auto& w) { return w.alive; }))
                break; // no worker left to answer
            // Rounded up: a truncated 0.9 ms would end the wait before the deadline, and what is
            // open would be blamed on the workers instead of the time limit.
            auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0)
                break;
            auto wait_ms = std::min<std::int64_t>(left.count(), std::numeric_limits<int>::max());
            int ready = ::poll(watched.data(), watched.size(), static_cast<int>(wait_ms));
            if (ready < 0 && errno == EINTR)
                continue;
            if (ready < 0)
            {
                wait_failure = std::string("cannot wait for the worker processes: ") + std::strerror(errno);
                break; // what is open is reported below
            }
            for (std::size_t k = 0; k < watched.size(); ++k)
            {
                if (watched[k].revents == 0 || owners[k] == nullptr)
                    continue;
                auto& worker = *owners[k];
                char chunk[16384];
                ssize_t n = ::read(worker.from_worker, chunk, sizeof chunk);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0)
                {
                    retire(worker);
                    continue;
                }
                worker.received.append(chunk, static_cast<std::size_t>(n));
                if (worker.received.size() > max_answer_line && worker.received.find('\n') == std::string::npos)
                {
                    // Not an answer of ours: stop listening to it rather than fill memory.
                    ::kill(worker.pid, SIGKILL);
                    retire(worker);
                    continue;
                }
                std::size_t newline;
                while ((newline = worker.received.find('\n')) != std::string::npos)
                {
                    auto line = worker.received.substr(0, newline);
                    worker.received.erase(0, newline + 1);
                    auto answer = decode_outcome(line);
                    if (!answer || answer->first >= count || answered[answer->first])
                        continue; // not a well-formed answer to an open job: ignored, the job stays open
                    answer->second.timing.queued = queued;
                    report.outcomes[answer->first] = std::move(answer->second);
                    answered[answer->first] = true;
                    --remaining;
                    bool first_answer = !std::exchange(worker.answered, true);
                    if (worker.alive && worker.job == answer->first)
                        assign(worker);
                    if (first_answer && worker.alive)
                    {
                        worker.threads = thread_count_of(worker.pid);
                        sample_threads();
                    }
                }
            }
        }
    }
    // Whatever is still open: stopped, the deadline passed, or every worker died.
    bool too_late = std::chrono::steady_clock::now() >= deadline;
    for (std::size_t i = 0; i < count; ++i)
    {
        if (answered[i])
            continue;
        bool started = std::any_of(workers.begin(), workers.end(), [i](const auto& w) { return w.alive && w.job == i; });
        if (params.stop.stop_requested())
            report.outcomes[i] = failed_outcome(params.bases[i], "stopped before the answer came",
                                                boost::asio::error::operation_aborted);
        else if (too_late)
            report.outcomes[i] = failed_outcome(params.bases[i],
                                                batch_deadline_message(started, params.client.batch_timeout),
                                                errc::batch_deadline);
        else
            report.outcomes[i] = failed_outcome(
                params.bases[i], wait_failure.empty() ? "no worker process was left to answer" : wait_failure);
    }
    for (auto& worker : workers)
    {
        if (worker.alive)
            reap(worker, remaining > 0 ? SIGKILL : 0, report);
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
