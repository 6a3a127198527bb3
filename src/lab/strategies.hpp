#pragma once

// The strategies' bodies: each fills `report.outcomes` (input order) and `report.peak_threads`.
// run_strategy measures wall time, CPU and memory around them. Each is a template over the job
// (lab/job.hpp), instantiated in its own file for the rates job and the URL job.

#include <fxrates/error.hpp>
#include <fxrates/retry_policy.hpp>
#include "client/batch.hpp"
#include "client/deadline.hpp"
#include "lab/job.hpp"
#include "lab/origin_gate.hpp"
#include "lab/strategy.hpp"

#include <boost/asio/error.hpp>

#include <chrono>
#include <optional>
#include <string>

namespace fxrates::detail {

template <class Job>
using report_of = basic_run_report<typename Job::outcome_type>;

template <class Job>
void run_sequential(const Job& job, report_of<Job>& report);
template <class Job>
void run_thread_per_item(const Job& job, report_of<Job>& report);
template <class Job>
void run_thread_pool(const Job& job, bool throttled, report_of<Job>& report);
template <class Job>
void run_process_pool(const Job& job, report_of<Job>& report);
template <class Job>
void run_async(const Job& job, bool throttled, report_of<Job>& report);
template <class Job>
void run_offload(const Job& job, report_of<Job>& report);

int run_process_pool_worker();

/// The outcome of an item that must not start: the batch is stopped, or past its `deadline`.
template <class Job>
std::optional<typename Job::outcome_type> refuse_start(const Job& job, std::size_t index, time_point deadline)
{
    if (job.params().stop.stop_requested())
        return job.failed(index, "stopped before it started", boost::asio::error::operation_aborted);
    if (std::chrono::steady_clock::now() >= deadline)
        return job.failed(index, batch_deadline_message(false, job.params().client.batch_timeout),
                          errc::batch_deadline);
    return std::nullopt;
}

/// The settings of the blocking clients of a strategy's threads, which keep the job's limits
/// together rather than each for itself: one retry budget for the job's `items`, as one client's
/// batch has (each thread's single requests would otherwise retry as often as they may, 40
/// requests for 10 URLs that fail where the budget allows 13); and, with a `gate`, its pace for
/// every request, retries and redirect hops included: a pace of their own in each client would
/// let N threads make N times the rate.
inline client_params threads_client(client_params params, std::size_t items, const origin_gate* gate)
{
    if (gate)
        params.shared_pace = gate->pace();
    if (!params.retry.shared_budget)
        params.retry.shared_budget = retry_budget::for_batch(params.retry, items);
    return params;
}

/// Fetches item `index` once `gate` lets it go, so that the strategy's threads together keep the
/// client's limits per origin; an item the gate holds past its time limits fails, saying which.
template <class Job>
typename Job::outcome_type fetch_gated(origin_gate& gate, blocking_client& api, const Job& job, std::size_t index,
                                       time_point deadline)
{
    const auto& where = job.origin_of(index);
    switch (gate.enter(where, index, deadline))
    {
    case origin_gate::entry::granted: break;
    case origin_gate::entry::stopped:
        return job.failed(index, "stopped before it started", boost::asio::error::operation_aborted);
    case origin_gate::entry::timed_out:
        if (std::chrono::steady_clock::now() >= deadline)
            return job.failed(index, batch_deadline_message(false, job.params().client.batch_timeout),
                              errc::batch_deadline);
        return job.failed(index,
                          rate_limit_held_message(limit_text("queue timeout", job.params().client.queue_timeout)),
                          boost::asio::error::timed_out);
    }
    struct leave_on_exit
    {
        origin_gate& gate;
        const origin& where;
        ~leave_on_exit() { gate.leave(where); }
    } leave{gate, where};
    return job.fetch(api, index, deadline);
}

// Each strategy's file instantiates its bodies for both jobs.
#define FXRATES_FOR_EACH_JOB(INSTANTIATE) \
    INSTANTIATE(rates_job)                \
    INSTANTIATE(fetch_job)

} // namespace fxrates::detail
