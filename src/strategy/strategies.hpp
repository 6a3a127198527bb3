#pragma once

// The strategies' bodies: each fills `report.outcomes` (input order) and `report.peak_threads`.
// run_strategy measures wall time, CPU and memory around them.

#include <fxrates/error.hpp>
#include <fxrates/strategy.hpp>

#include <string>

namespace fxrates::detail {

void run_sequential(const strategy_params& params, run_report& report);
void run_thread_per_item(const strategy_params& params, run_report& report);
void run_thread_pool(const strategy_params& params, bool throttled, run_report& report);
void run_process_pool(const strategy_params& params, run_report& report);
int run_process_pool_worker();

/// The outcome of a base that got no answer: `error`, explained by `why`, done now.
rates_outcome failed_outcome(currency_code base, std::string why, error_code error = errc::worker_failed);
void run_async(const strategy_params& params, bool throttled, run_report& report);
void run_offload(const strategy_params& params, run_report& report);

} // namespace fxrates::detail
