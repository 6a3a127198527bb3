// A strategy run in a fresh process, for comparisons that are fair: each strategy's CPU, memory
// and threads are measured on a process that ran nothing else.

#include "lab/strategy.hpp"

#include "client/deadline.hpp"
#include "lab/child_process.hpp"
#include "lab/strategies.hpp"
#include "lab/wire.hpp"

#include <boost/asio/error.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <memory>
#include <optional>
#include <stop_token>
#include <thread>
#include <cstring>
#include <iostream>
#include <string>


namespace fxrates {

namespace {

run_report failed_run(strategy kind, const strategy_params& params, const std::string& why,
                      error_code error = errc::worker_failed)
{
    run_report report;
    report.kind = kind;
    report.started = std::chrono::steady_clock::now();
    for (auto base : params.bases)
    {
        report.outcomes.push_back(detail::failed_outcome(base, why, error));
        report.outcomes.back().timing.queued = report.outcomes.back().timing.done = report.started;
    }
    return report;
}

} // namespace

run_report run_strategy_in_process(strategy kind, const strategy_params& params)
{
    using namespace std::chrono_literals;
    using clock_type = std::chrono::steady_clock;
    detail::ignore_sigpipe();

    std::string program = params.worker_program.empty() ? "/proc/self/exe" : params.worker_program;
    // Everything that can throw happens before the child exists.
    std::string request = detail::encode_settings(params, to_string(kind));
    // A report is a JSON line per base of a few KiB at most; more than this is not a report.
    const std::size_t max_report = (params.bases.size() + 16) * 64 * 1024;

    // The child keeps this process's signal mask (see spawn_child): Ctrl-C reaches this process
    // alone, which asks the child to stop by ending its input.
    std::string why;
    auto child = detail::spawn_child(program, "strategy-worker", why);
    if (!child)
        return failed_run(kind, params, why);
    pid_t pid = child->pid;
    // The child keeps the batch's time limit by itself; this process steps in only if it does not:
    // a few seconds later it asks it to stop (a partial report still comes), and a few more
    // seconds later it kills it.
    int to_child = child->to_child;
    std::optional<clock_type::time_point> kill_at;
    auto ask_to_stop = [&] {
        if (to_child < 0)
            return;
        ::close(to_child);
        to_child = -1;
        kill_at = detail::deadline_after(5s);
    };
    bool sent = detail::write_all(to_child, request);
    if (!sent)
        ask_to_stop();

    detail::stop_wakeup wake(params.stop);
    auto stop_at = detail::deadline_after(5s, detail::batch_deadline(params));
    std::string text, failure;
    bool interrupted = false;
    for (;;)
    {
        auto now = clock_type::now();
        if (to_child >= 0 && (params.stop.stop_requested() || now >= stop_at))
        {
            interrupted = params.stop.stop_requested();
            ask_to_stop();
        }
        if (kill_at && now >= *kill_at)
        {
            failure = "the strategy's process did not stop when asked; it was killed";
            break;
        }
        auto until = kill_at ? *kill_at : stop_at;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count();
        pollfd watched[2] = {{child->from_child, POLLIN, 0}, {wake.fd(), POLLIN, 0}};
        // Once the child is asked to stop, the stop pipe (readable for good) is no longer watched.
        nfds_t count = to_child >= 0 && wake.fd() >= 0 ? 2 : 1;
        int ready = ::poll(watched, count, static_cast<int>(std::clamp<long long>(left, 0, 60'000)));
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready < 0)
        {
            failure = std::string("cannot wait for the strategy's process: ") + std::strerror(errno);
            break;
        }
        if (watched[0].revents == 0)
            continue;
        char chunk[65536];
        ssize_t n = ::read(child->from_child, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; // the report is complete
        text.append(chunk, static_cast<std::size_t>(n));
        if (text.size() > max_report)
        {
            failure = "the strategy's process wrote more than a report";
            break;
        }
    }
    ask_to_stop();
    ::close(child->from_child);
    if (!failure.empty())
        ::kill(pid, SIGKILL);
    rusage usage{};
    int status = detail::wait_for_child(pid, &usage);

    auto report = sent && failure.empty() ? detail::decode_report(text) : std::nullopt;
    if (!report)
    {
        if (failure.empty())
            failure = "the strategy's process ended without a report (status " + std::to_string(status) + ")";
        return failed_run(kind, params, failure,
                          interrupted ? error_code(boost::asio::error::operation_aborted) : errc::worker_failed);
    }
    // Whole-process figures of the child (and of its own workers, which it waited for).
    report->cpu_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                          static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    // Its peak memory is in its report (its own, plus its workers' summed): wait4's figure would
    // count ours too (see peak_rss_kib).
    return *report;
}

int run_strategy_worker()
{
    std::string line;
    if (!std::getline(std::cin, line))
        return 1;
    try
    {
        std::string name;
        auto params = detail::decode_settings(line, &name);
        auto kind = parse_strategy(name);
        if (!kind)
            throw std::invalid_argument("unknown strategy");
        // The parent asks for a stop by ending this process's input (Ctrl-C, or its own time
        // limit): a thread waits for that end. It is the parent's, not the strategy's, so it is
        // left out of the thread count.
        auto stop = std::make_shared<std::stop_source>();
        params.stop = stop->get_token();
        std::thread([stop] {
            char byte;
            for (;;)
            {
                ssize_t n = ::read(STDIN_FILENO, &byte, 1);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n <= 0)
                    break;
            }
            stop->request_stop();
            // Stays until the process ends, so that every thread count the strategy takes holds
            // it, and the one subtracted below is always there to subtract.
            for (;;)
                ::pause();
        }).detach();
        auto report = run_strategy(*kind, params);
        if (report.peak_threads > 1)
            --report.peak_threads;
        std::cout << detail::encode_report(report) << std::flush;
        return 0;
    }
    catch (const std::exception& e)
    {
        std::cerr << "fxrates strategy-worker: " << e.what() << '\n';
        return 1;
    }
}

} // namespace fxrates
