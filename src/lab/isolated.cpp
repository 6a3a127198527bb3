// A strategy run in a fresh process, for comparisons that are fair: each strategy's CPU, memory
// and threads are measured on a process that ran nothing else. The child's pipes are watched by an
// io_context run on the calling thread; timers ask it to stop, then kill it, if it overruns.

#include "lab/strategy.hpp"

#include "client/deadline.hpp"
#include "lab/child_process.hpp"
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
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <memory>
#include <optional>
#include <stop_token>
#include <thread>
#include <iostream>
#include <string>


namespace fxrates {

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

template <class Job>
detail::report_of<Job> failed_run(strategy kind, const Job& job, const std::string& why,
                                  error_code error = errc::worker_failed)
{
    detail::report_of<Job> report;
    report.kind = kind;
    report.started = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < job.size(); ++i)
    {
        report.outcomes.push_back(job.failed(i, why, error));
        report.outcomes.back().timing.queued = report.outcomes.back().timing.done = report.started;
    }
    return report;
}

// Sends the child its request and reads its report, on an io_context run by the calling thread.
// The child keeps the batch's time limit by itself; this process steps in only if it does not: a
// few seconds later it asks it to stop (a partial report still comes), and a few more seconds
// later it kills it. A stop request asks it to stop at once.
class child_supervisor
{
public:
    child_supervisor(asio::io_context& context, const strategy_params& params,
                     const detail::child_process& child, std::size_t max_report)
        : context_(context), params_(params), max_report_(max_report), to_child_(context),
          from_child_(context), stop_timer_(context), kill_timer_(context)
    {
        detail::adopt_pipe(to_child_, child.to_child);
        detail::adopt_pipe(from_child_, child.from_child);
    }

    void run(const std::string& request)
    {
        writing_ = true;
        asio::async_write(to_child_, asio::buffer(request),
                          [this](boost::system::error_code failed, std::size_t)
                          {
                              writing_ = false;
                              sent_ = !failed;
                              if (failed || stop_asked_)
                                  ask_to_stop();
                          });
        read();
        stop_timer_.expires_at(detail::deadline_after(5s, detail::batch_deadline(params_)));
        stop_timer_.async_wait(
            [this](boost::system::error_code failed)
            {
                if (!failed)
                    ask_to_stop();
            });
        // Called on the thread that asks for the stop: post is what may be done from there.
        std::stop_callback on_stop(params_.stop, [this] { asio::post(context_, [this] { ask_to_stop(); }); });
        context_.run();
    }

    /// Once run has returned: the child has ended its report, or `failure` says why not.
    bool sent() const { return sent_; }
    bool interrupted() const { return interrupted_; }
    const std::string& text() const { return text_; }
    const std::string& failure() const { return failure_; }

    /// Closes our ends of the pipes (the child sees the end of its input, as a request to stop).
    void close()
    {
        boost::system::error_code ignored;
        to_child_.close(ignored);
        from_child_.close(ignored);
    }

private:
    // The child is asked to stop by the end of its input, once its request is written.
    void ask_to_stop()
    {
        if (finished_)
            return;
        if (!stop_asked_)
        {
            stop_asked_ = true;
            interrupted_ = params_.stop.stop_requested();
            kill_timer_.expires_after(5s);
            kill_timer_.async_wait(
                [this](boost::system::error_code failed)
                {
                    if (failed)
                        return;
                    failure_ = "the strategy's process did not stop when asked; it was killed";
                    finish();
                });
        }
        if (!writing_)
        {
            boost::system::error_code ignored;
            to_child_.close(ignored);
        }
    }

    void read()
    {
        from_child_.async_read_some(asio::buffer(chunk_),
                                    [this](boost::system::error_code failed, std::size_t size)
                                    { on_read(failed, size); });
    }

    void on_read(boost::system::error_code failed, std::size_t size)
    {
        if (finished_)
            return;
        if (failed)
        {
            finish(); // the report is complete
            return;
        }
        text_.append(chunk_.data(), size);
        if (text_.size() > max_report_)
        {
            failure_ = "the strategy's process wrote more than a report";
            finish();
            return;
        }
        read();
    }

    void finish()
    {
        finished_ = true;
        context_.stop();
    }

    asio::io_context& context_;
    const strategy_params& params_;
    const std::size_t max_report_;
    asio::posix::stream_descriptor to_child_, from_child_;
    asio::steady_timer stop_timer_, kill_timer_;
    std::array<char, 65536> chunk_;
    std::string text_, failure_;
    bool writing_ = false, sent_ = false, stop_asked_ = false, interrupted_ = false, finished_ = false;
};

} // namespace

namespace {

// Runs `job` under `kind` in a fresh `strategy-worker` process, which is sent `header` (the
// strategy, the job's kind and, for URLs, the items); `decode` reads its report.
template <class Job, class Decode>
detail::report_of<Job> run_in_process(strategy kind, const Job& job, detail::settings_header header, Decode decode)
{
    const auto& params = job.params();
    detail::ignore_sigpipe();

    std::string program = params.worker_program.empty() ? "/proc/self/exe" : params.worker_program;
    header.strategy = to_string(kind);
    header.job = Job::wire_name;
    std::string request = detail::encode_settings(params, header);
    // A report is a JSON line per item of a few KiB at most; more than this is not a report.
    const std::size_t max_report = (job.size() + 16) * 64 * 1024;

    // The child keeps this process's signal mask (see spawn_child): Ctrl-C reaches this process
    // alone, which asks the child to stop by ending its input.
    std::string why;
    auto child = detail::spawn_child(program, "strategy-worker", why);
    if (!child)
        return failed_run(kind, job, why);
    // Whatever ends this function, an exception included, the child is not left running or
    // unreaped.
    struct child_guard
    {
        pid_t pid;
        bool reaped = false;
        ~child_guard()
        {
            if (reaped)
                return;
            ::kill(pid, SIGKILL);
            detail::wait_for_child(pid);
        }
    } guard{child->pid};

    asio::io_context context(1);
    auto supervisor = std::make_unique<child_supervisor>(context, params, *child, max_report);
    supervisor->run(request);
    supervisor->close();
    if (!supervisor->failure().empty())
        ::kill(child->pid, SIGKILL);
    rusage usage{};
    int status = detail::wait_for_child(child->pid, &usage);
    guard.reaped = true;

    std::string failure = supervisor->failure();
    auto report = supervisor->sent() && failure.empty() ? decode(supervisor->text()) : std::nullopt;
    if (!report)
    {
        if (failure.empty())
            failure = "the strategy's process ended without a report (status " + std::to_string(status) + ")";
        return failed_run(kind, job, failure,
                          supervisor->interrupted() ? error_code(boost::asio::error::operation_aborted)
                                                    : errc::worker_failed);
    }
    // Whole-process figures of the child (and of its own workers, which it waited for).
    report->cpu_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                          static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    // Its peak memory is in its report (its own, plus its workers' summed): wait4's figure would
    // count ours too (see peak_rss_kib).
    return *report;
}

// In a strategy-worker of the URL job: the bodies are counted (the outcomes' `bytes`) and dropped.
class discarding_sink final : public body_sink
{
public:
    error_code write(std::string_view) override { return {}; }
};

} // namespace

run_report run_strategy_in_process(strategy kind, const strategy_params& params)
{
    return run_in_process(kind, detail::rates_job(params), {},
                          [](std::string_view text) { return detail::decode_report(text); });
}

fetch_run_report run_fetch_strategy_in_process(strategy kind, const strategy_params& params,
                                               const std::vector<std::string>& urls)
{
    std::vector<fetch_item> items;
    for (const auto& url : urls)
        items.push_back({url, nullptr, {}});
    detail::settings_header header;
    header.urls = urls;
    return run_in_process(kind, detail::fetch_job(params, std::move(items), {}), std::move(header),
                          [](std::string_view text) { return detail::decode_fetch_report(text); });
}

int run_strategy_worker()
{
    std::string line;
    if (!std::getline(std::cin, line))
        return 1;
    try
    {
        detail::settings_header header;
        auto params = detail::decode_settings(line, &header);
        auto kind = parse_strategy(header.strategy);
        if (!kind)
            throw std::invalid_argument("unknown strategy");
        if (!header.job.empty() && header.job != detail::rates_job::wire_name &&
            header.job != detail::fetch_job::wire_name)
            throw std::invalid_argument("unknown job '" + header.job + "'");
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
            // it, and the one subtracted from the report is always there to subtract.
            for (;;)
                ::pause();
        }).detach();
        // The parent's thread is not the strategy's: left out of the count.
        auto report_without_the_watch = [](auto report) {
            if (report.peak_threads > 1)
                --report.peak_threads;
            return detail::encode_report(report);
        };
        if (header.job == detail::fetch_job::wire_name)
        {
            std::vector<discarding_sink> sinks(header.urls.size());
            std::vector<fetch_item> items;
            for (std::size_t i = 0; i < header.urls.size(); ++i)
                items.push_back({header.urls[i], &sinks[i], {}});
            std::cout << report_without_the_watch(run_fetch_strategy(*kind, params, std::move(items)));
        }
        else
            std::cout << report_without_the_watch(run_strategy(*kind, params));
        std::cout << std::flush;
        return 0;
    }
    catch (const std::exception& e)
    {
        std::cerr << "fxrates strategy-worker: " << e.what() << '\n';
        return 1;
    }
}

} // namespace fxrates
