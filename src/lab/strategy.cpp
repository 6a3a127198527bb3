#include "lab/strategy.hpp"

#include <fxrates/blocking_client.hpp>

#include <mutex>
#include <vector>

#include "client/batch.hpp"
#include "client/deadline.hpp"
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
// each base is told once, and those a strategy did not tell as they ended (a base that could not
// start, say) are told when the run is over, before it returns.
class observer_guard
{
public:
    explicit observer_guard(outcome_observer observe, std::size_t count) : observe_(std::move(observe)), told_(count) {}

    outcome_observer wrapped()
    {
        if (!observe_)
            return {};
        return [this](std::size_t index, const rates_outcome& outcome) {
            std::lock_guard lock(mutex_);
            if (index < told_.size() && !std::exchange(told_[index], true))
                observe_(index, outcome);
        };
    }

    void tell_the_rest(const std::vector<rates_outcome>& outcomes)
    {
        if (!observe_)
            return;
        std::lock_guard lock(mutex_);
        for (std::size_t i = 0; i < outcomes.size() && i < told_.size(); ++i)
            if (!std::exchange(told_[i], true))
                observe_(i, outcomes[i]);
    }

private:
    outcome_observer observe_;
    std::mutex mutex_;
    std::vector<char> told_; // not vector<bool>: std::exchange needs a real reference
};

} // namespace

run_report run_strategy(strategy kind, const strategy_params& caller_params)
{
    observer_guard observer(caller_params.on_outcome, caller_params.bases.size());
    strategy_params params = caller_params;
    params.on_outcome = observer.wrapped();
    run_report report;
    report.kind = kind;
    bool children = kind == strategy::process_pool;
    double cpu_before = detail::cpu_seconds(children);
    report.started = std::chrono::steady_clock::now();
    report.peak_threads = detail::thread_count();

    switch (kind)
    {
    case strategy::sequential: detail::run_sequential(params, report); break;
    case strategy::thread_per_item: detail::run_thread_per_item(params, report); break;
    case strategy::thread_pool: detail::run_thread_pool(params, false, report); break;
    case strategy::thread_pool_throttled: detail::run_thread_pool(params, true, report); break;
    case strategy::process_pool: detail::run_process_pool(params, report); break;
    case strategy::async: detail::run_async(params, false, report); break;
    case strategy::async_throttled: detail::run_async(params, true, report); break;
    case strategy::offload: detail::run_offload(params, report); break;
    }

    observer.tell_the_rest(report.outcomes);
    report.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - report.started).count();
    report.cpu_seconds = detail::cpu_seconds(children) - cpu_before;
    // The process pool has added its workers' peaks; everyone adds this process's own.
    report.peak_rss_kib += detail::peak_rss_kib();
    return report;
}

} // namespace fxrates

namespace fxrates::detail {

rates_outcome failed_outcome(currency_code base, std::string why, error_code error)
{
    rates_outcome outcome;
    outcome.base = base;
    outcome.error = error;
    outcome.diag.set_client_message(std::move(why));
    outcome.timing.done = std::chrono::steady_clock::now();
    return outcome;
}

std::chrono::steady_clock::time_point batch_deadline(const strategy_params& params)
{
    return deadline_after(params.client.batch_timeout);
}

std::optional<rates_outcome> refuse_start(const strategy_params& params, currency_code base,
                                          std::chrono::steady_clock::time_point deadline)
{
    if (params.stop.stop_requested())
        return failed_outcome(base, "stopped before it started", boost::asio::error::operation_aborted);
    if (std::chrono::steady_clock::now() >= deadline)
        return failed_outcome(base, batch_deadline_message(false, params.client.batch_timeout), errc::batch_deadline);
    return std::nullopt;
}

rates_outcome fetch_by_deadline(blocking_client& api, const strategy_params& params, currency_code base,
                                std::chrono::steady_clock::time_point deadline)
{
    auto outcome = api.get_rates(base, params.query, deadline, params.stop);
    if (outcome.error == errc::batch_deadline)
        outcome.diag.set_client_message(batch_deadline_message(true, params.client.batch_timeout));
    return outcome;
}

} // namespace fxrates::detail
