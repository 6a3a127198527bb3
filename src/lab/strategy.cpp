#include "lab/strategy.hpp"

#include <fxrates/blocking_client.hpp>

#include <functional>
#include <mutex>
#include <vector>

#include "client/batch.hpp"
#include "client/deadline.hpp"
#include "client/http/redirect.hpp"
#include "lab/measure.hpp"
#include "lab/strategies.hpp"

#include <boost/asio/error.hpp>

#include <array>
#include <utility>

namespace fxrates {

namespace {

constexpr std::array<std::pair<strategy, std::string_view>, 8> names{{
    {strategy::sequential, "sequential"},
    {strategy::thread_per_item, "thread-per-item"},
    {strategy::thread_pool, "thread-pool"},
    {strategy::thread_pool_throttled, "thread-pool-throttled"},
    {strategy::process_pool, "process-pool"},
    {strategy::async, "async"},
    {strategy::async_throttled, "async-throttled"},
    {strategy::offload, "offload"},
}};

constexpr std::array<strategy, 8> every_strategy{strategy::sequential,      strategy::thread_per_item,
                                                 strategy::thread_pool,     strategy::thread_pool_throttled,
                                                 strategy::process_pool,    strategy::async,
                                                 strategy::async_throttled, strategy::offload};

} // namespace

std::span<const strategy> all_strategies() noexcept
{
    return every_strategy;
}

std::string_view to_string(strategy kind) noexcept
{
    for (const auto& [value, name] : names)
        if (value == kind)
            return name;
    return "unknown";
}

std::optional<strategy> parse_strategy(std::string_view name) noexcept
{
    for (const auto& [value, known] : names)
        if (known == name)
            return value;
    return std::nullopt;
}

namespace {

// The caller's observer, made safe for the threaded strategies (calls serialised) and complete:
// each item is told once, and those a strategy did not tell as they ended (an item that could not
// start, say) are told when the run is over, before it returns.
template <class Outcome>
class observer_guard
{
public:
    using observer = std::function<void(std::size_t, const Outcome&)>;

    explicit observer_guard(observer observe, std::size_t count) : observe_(std::move(observe)), told_(count) {}

    observer wrapped()
    {
        if (!observe_)
            return {};
        return [this](std::size_t index, const Outcome& outcome) {
            std::lock_guard lock(mutex_);
            if (index < told_.size() && !std::exchange(told_[index], true))
                observe_(index, outcome);
        };
    }

    void tell_the_rest(const std::vector<Outcome>& outcomes)
    {
        if (!observe_)
            return;
        std::lock_guard lock(mutex_);
        for (std::size_t i = 0; i < outcomes.size() && i < told_.size(); ++i)
            if (!std::exchange(told_[i], true))
                observe_(i, outcomes[i]);
    }

private:
    observer observe_;
    std::mutex mutex_;
    std::vector<char> told_; // not vector<bool>: std::exchange needs a real reference
};

// Runs `kind` on `job`, measuring it; `observer` has been handed to the job, wrapped.
template <class Job, class Outcome>
basic_run_report<Outcome> run_measured(strategy kind, const Job& job, observer_guard<Outcome>& observer)
{
    basic_run_report<Outcome> report;
    report.kind = kind;
    bool children = kind == strategy::process_pool;
    double cpu_before = detail::cpu_seconds(children);
    report.started = std::chrono::steady_clock::now();
    report.peak_threads = detail::thread_count();

    switch (kind)
    {
    case strategy::sequential: detail::run_sequential(job, report); break;
    case strategy::thread_per_item: detail::run_thread_per_item(job, report); break;
    case strategy::thread_pool: detail::run_thread_pool(job, false, report); break;
    case strategy::thread_pool_throttled: detail::run_thread_pool(job, true, report); break;
    case strategy::process_pool: detail::run_process_pool(job, report); break;
    case strategy::async: detail::run_async(job, false, report); break;
    case strategy::async_throttled: detail::run_async(job, true, report); break;
    case strategy::offload: detail::run_offload(job, report); break;
    }

    observer.tell_the_rest(report.outcomes);
    report.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - report.started).count();
    report.cpu_seconds = detail::cpu_seconds(children) - cpu_before;
    // The process pool has added its workers' peaks; everyone adds this process's own.
    report.peak_rss_kib += detail::peak_rss_kib();
    return report;
}

} // namespace

run_report run_strategy(strategy kind, const strategy_params& caller_params)
{
    observer_guard<rates_outcome> observer(caller_params.on_outcome, caller_params.bases.size());
    strategy_params params = caller_params;
    params.on_outcome = observer.wrapped();
    return run_measured(kind, detail::rates_job(params), observer);
}

fetch_run_report run_fetch_strategy(strategy kind, const strategy_params& params, std::vector<fetch_item> items,
                                    fetch_observer observe)
{
    observer_guard<fetch_outcome> observer(std::move(observe), items.size());
    return run_measured(kind, detail::fetch_job(params, std::move(items), observer.wrapped()), observer);
}

} // namespace fxrates

namespace fxrates::detail {

namespace {

template <class Outcome>
Outcome failed_with(Outcome outcome, std::string why, error_code error)
{
    outcome.error = error;
    outcome.diag.set_client_message(std::move(why));
    outcome.timing.done = std::chrono::steady_clock::now();
    return outcome;
}

} // namespace

origin origin_of_url(std::string_view url)
{
    http_location location;
    std::string why;
    if (parse_http_location(url, location, why))
        return origin{"", "", 0};
    return location.origin;
}

rates_outcome failed_outcome(currency_code base, std::string why, error_code error)
{
    rates_outcome outcome;
    outcome.base = base;
    return failed_with(std::move(outcome), std::move(why), error);
}

fetch_outcome failed_outcome(const std::string& url, std::string why, error_code error)
{
    fetch_outcome outcome;
    outcome.url = url;
    return failed_with(std::move(outcome), std::move(why), error);
}

std::chrono::steady_clock::time_point batch_deadline(const strategy_params& params)
{
    return deadline_after(params.client.batch_timeout);
}

rates_outcome fetch_by_deadline(blocking_client& api, const strategy_params& params, currency_code base,
                                time_point deadline)
{
    auto outcome = api.get_rates(base, params.query, deadline, params.stop);
    if (outcome.error == errc::batch_deadline)
        outcome.diag.set_client_message(batch_deadline_message(true, params.client.batch_timeout));
    return outcome;
}

} // namespace fxrates::detail
