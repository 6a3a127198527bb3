// A strategy run in a fresh process, for comparisons that are fair: each strategy's CPU, memory
// and threads are measured on a process that ran nothing else.

#include <fxrates/strategy.hpp>

#include "strategy/child_process.hpp"
#include "strategy/strategies.hpp"
#include "strategy/wire.hpp"

#include <boost/json.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <iterator>
#include <string>


namespace fxrates {

namespace {

run_report failed_run(strategy kind, const strategy_params& params, const std::string& why)
{
    run_report report;
    report.kind = kind;
    report.started = std::chrono::steady_clock::now();
    for (auto base : params.bases)
    {
        report.outcomes.push_back(detail::failed_outcome(base, why));
        report.outcomes.back().timing.queued = report.outcomes.back().timing.done = report.started;
    }
    return report;
}

} // namespace

run_report run_strategy_in_process(strategy kind, const strategy_params& params)
{
    detail::ignore_sigpipe();

    std::string program = params.worker_program.empty() ? "/proc/self/exe" : params.worker_program;
    // Everything that can throw happens before the child exists.
    boost::json::object line = boost::json::parse(detail::encode_settings(params)).as_object();
    line["strategy"] = to_string(kind);
    std::string request = boost::json::serialize(line) + "\n";

    // The child keeps this process's signal mask: what is blocked here stays blocked there.
    std::string why;
    auto child = detail::spawn_child(program, "strategy-worker", detail::child_signals::inherited, why);
    if (!child)
        return failed_run(kind, params, why);
    pid_t pid = child->pid;
    bool sent = detail::write_all(child->to_child, request);
    ::close(child->to_child);

    // Read the report, within the batch time limit plus a margin for the process itself.
    std::string text;
    auto deadline = std::chrono::steady_clock::now() + params.client.batch_timeout + std::chrono::seconds(10);
    bool timed_out = false;
    for (;;)
    {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
        {
            timed_out = true;
            break;
        }
        pollfd watched{child->from_child, POLLIN, 0};
        int ready = ::poll(&watched, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            continue;
        char chunk[65536];
        ssize_t n = ::read(child->from_child, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        text.append(chunk, static_cast<std::size_t>(n));
    }
    ::close(child->from_child);
    if (timed_out)
        ::kill(pid, SIGKILL);
    int status = 0;
    rusage usage{};
    ::wait4(pid, &status, 0, &usage);

    auto report = sent ? detail::decode_report(text) : std::nullopt;
    if (!report)
        return failed_run(kind, params,
                          timed_out ? "the strategy's process did not finish in time"
                                    : "the strategy's process ended without a report (status " +
                                          std::to_string(status) + ")");
    // Whole-process figures of the child (and of its own workers, which it waited for).
    report->cpu_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                          static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    // The child's report has its own peak plus its workers' (summed); wait4 gives the largest one
    // process only.
    report->peak_rss_kib = std::max(report->peak_rss_kib, static_cast<long>(usage.ru_maxrss));
    return *report;
}

int run_strategy_worker()
{
    std::string line;
    if (!std::getline(std::cin, line))
        return 1;
    try
    {
        auto request = boost::json::parse(line).as_object();
        auto kind = parse_strategy(request.at("strategy").as_string());
        if (!kind)
            throw std::invalid_argument("unknown strategy");
        auto params = detail::decode_settings(line);
        auto report = run_strategy(*kind, params);
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
