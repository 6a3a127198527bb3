#pragma once

// The strategies' bodies: each fills `report.outcomes` (input order) and `report.peak_threads`.
// run_strategy measures wall time, CPU and memory around them.

#include <fxrates/error.hpp>
#include "lab/strategy.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace fxrates {
class blocking_client;
}

namespace fxrates::detail {

void run_sequential(const strategy_params& params, run_report& report);
void run_thread_per_item(const strategy_params& params, run_report& report);
void run_thread_pool(const strategy_params& params, bool throttled, run_report& report);
void run_process_pool(const strategy_params& params, run_report& report);
int run_process_pool_worker();

/// The outcome of a base that got no answer: `error`, explained by `why`, done now.
rates_outcome failed_outcome(currency_code base, std::string why, error_code error = errc::worker_failed);

/// When the whole batch must be done: `client_params::batch_timeout` from now.
std::chrono::steady_clock::time_point batch_deadline(const strategy_params& params);

/// The outcome of a base that must not start: the batch is stopped, or past its `deadline`.
std::optional<rates_outcome> refuse_start(const strategy_params& params, currency_code base,
                                          std::chrono::steady_clock::time_point deadline);

/// One base through a blocking client, by the batch's `deadline` and stop request; a request
/// still under way at the deadline is abandoned and says which time limit it hit.
rates_outcome fetch_by_deadline(blocking_client& api, const strategy_params& params, currency_code base,
                                std::chrono::steady_clock::time_point deadline);
void run_async(const strategy_params& params, bool throttled, run_report& report);
void run_offload(const strategy_params& params, run_report& report);

} // namespace fxrates::detail
