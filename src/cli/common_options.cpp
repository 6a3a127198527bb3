#include "cli/common_options.hpp"

#include "cli/client_check.hpp"
#include "cli/input_checks.hpp"
#include "cli/output.hpp"

#include <fxrates/date.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>

#include <sys/resource.h>

namespace fxrates::cli {

trust_option_handles add_trust_options(CLI::App& command, trust_options& options, CLI::Option* local,
                                       const std::string& cacert_help, const std::string& insecure_help)
{
    auto* cacert = command.add_option("--cacert", options.ca_file, cacert_help)->check(regular_file());
    auto* insecure = command.add_flag("--insecure", options.insecure, insecure_help)->excludes(cacert);
    if (local)
    {
        cacert->excludes(local);
        insecure->excludes(local);
    }
    return {cacert, insecure};
}

CLI::Option* add_date_option(CLI::App& command, std::string& date)
{
    return command.add_option("--date", date, "Day of the rates, YYYY-MM-DD (default: the latest)")
        ->check(not_empty("a day in the form YYYY-MM-DD, or leave --date out for the latest rates"));
}

bool read_date(std::string_view command, const std::string& text, rates_query& query)
{
    if (text.empty())
        return true;
    query.date = parse_iso_date(text);
    if (!query.date)
        report(command, "--date: '" + text + "' is not a calendar date in the form YYYY-MM-DD, e.g. 2019-04-09");
    return query.date.has_value();
}

bool apply_trust_options(std::string_view command, const trust_options& options, client_params& params)
{
    params.ca_file = options.ca_file;
    params.use_system_trust = options.ca_file.empty(); // --cacert replaces the system store, as in curl
    params.insecure = options.insecure;
    if (auto why = describe_bad_ca_file(params); !why.empty())
    {
        report(command, why);
        return false;
    }
    if (options.insecure)
        report(command, "warning: --insecure: the server's certificate is not verified, so anyone on the way can "
                        "read and change the rates");
    return true;
}

void apply_time_limit(double seconds, client_params& params)
{
    // The option's range keeps the conversion exact; the fallback only guards a caller that skipped it.
    auto limit = to_duration(seconds).value_or(params.batch_timeout);
    params.batch_timeout = limit;
    params.request_timeout = std::min(params.request_timeout, limit);
    // Nothing may plan past the batch: a Retry-After beyond it fails at once, with its reason.
    params.total_timeout = std::min(params.total_timeout, limit);
    params.queue_timeout = std::min(params.queue_timeout, limit);
}

void apply_per_url_time_limit(double seconds, client_params& params)
{
    // Not apply_time_limit's "at most": a 1 GiB body at 10 MB/s takes minutes, and the client's
    // 30 s per attempt and 60 s per item are a rates request's limits.
    auto limit = to_duration(seconds).value_or(params.total_timeout);
    params.total_timeout = limit;
    params.request_timeout = limit;
    params.queue_timeout = std::min(params.queue_timeout, limit);
}

bool check_concurrency_applies(std::string_view command, strategy kind, std::string_view threads_option)
{
    if (kind == strategy::async || kind == strategy::async_throttled)
        return true;
    std::string own = kind == strategy::sequential        ? "runs one request at a time"
                      : kind == strategy::thread_per_item ? "runs a thread per item"
                                                          : "runs " + std::string(threads_option) + " requests at once";
    report(command, "--concurrency is the async strategy's; --strategy " + std::string(to_string(kind)) + " " + own +
                        " (--per-host and --rate hold for all of them)");
    return false;
}

bool check_threads_apply(std::string_view command, strategy kind)
{
    if (kind == strategy::thread_pool || kind == strategy::thread_pool_throttled || kind == strategy::process_pool ||
        kind == strategy::offload)
        return true;
    const std::string own = kind == strategy::sequential        ? "runs one request at a time"
                            : kind == strategy::thread_per_item ? "runs a thread per item"
                                                                : "runs --concurrency N requests at once";
    report(command, "--threads is the pools' (thread-pool, process-pool, offload); --strategy " +
                        std::string(to_string(kind)) + " " + own);
    return false;
}

bool check_request_count(std::string_view command, std::span<const strategy> kinds, std::size_t requests,
                         std::string_view how_to_reduce)
{
    if (requests > max_requests_per_strategy)
    {
        report(command, std::to_string(requests) + " requests per strategy are too many: at most " +
                            std::to_string(max_requests_per_strategy) + " fit in memory; " + std::string(how_to_reduce));
        return false;
    }
    if (std::find(kinds.begin(), kinds.end(), strategy::thread_per_item) == kinds.end())
        return true;
    // Each base has a thread with its own client at once: a connection, and an event loop's epoll,
    // eventfd and timerfd; the rest of the process keeps some for itself.
    constexpr rlim_t per_request = 4;
    constexpr rlim_t reserved = 64;
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) != 0)
        return true;
    if (files.rlim_cur < files.rlim_max)
    {
        rlimit raised = files;
        raised.rlim_cur = files.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0)
            files = raised;
    }
    if (files.rlim_cur == RLIM_INFINITY || files.rlim_cur >= reserved + per_request * requests)
        return true;
    rlim_t most = files.rlim_cur > reserved ? (files.rlim_cur - reserved) / per_request : 0;
    report(command, "--strategy thread-per-item cannot make " + std::to_string(requests) +
                        " requests: each has a thread with a connection and an event loop (" +
                        std::to_string(per_request) + " open files), and this process may open " +
                        std::to_string(files.rlim_cur) + " files (ulimit -n), enough for " + std::to_string(most) +
                        " at once; use another strategy, or " + std::string(how_to_reduce));
    return false;
}

} // namespace fxrates::cli
