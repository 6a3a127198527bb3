#pragma once

// The strategies' bodies: each fills `report.outcomes` (input order) and `report.peak_threads`.
// run_strategy measures wall time, CPU and memory around them. Each is a template over the job
// (lab/job.hpp), instantiated in its own file for the rates job and the URL job.

#include <fxrates/error.hpp>
#include "client/batch.hpp"
#include "lab/job.hpp"
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

// Each strategy's file instantiates its bodies for both jobs.
#define FXRATES_FOR_EACH_JOB(INSTANTIATE) \
    INSTANTIATE(rates_job)                \
    INSTANTIATE(fetch_job)

} // namespace fxrates::detail
