#pragma once

// The strategies' bodies: each fills `report.outcomes` (input order) and `report.peak_threads`.
// run_strategy measures wall time, CPU and memory around them.

#include <fxrates/strategy.hpp>

namespace fxrates::detail {

void run_sequential(const strategy_params& params, run_report& report);
void run_thread_per_item(const strategy_params& params, run_report& report);
void run_thread_pool(const strategy_params& params, bool throttled, run_report& report);
void run_process_pool(const strategy_params& params, run_report& report);
int run_process_pool_worker();
void run_async(const strategy_params& params, bool throttled, run_report& report);
void run_offload(const strategy_params& params, run_report& report);

} // namespace fxrates::detail
