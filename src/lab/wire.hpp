#pragma once

// The process pool's messages, one JSON object per line: the job settings, a job, an outcome.

#include <fxrates/rates_outcome.hpp>
#include "lab/strategy.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace fxrates::detail {

/// The first line to a worker: what every job shares; with `strategy`, also which strategy to run
/// (for a `strategy-worker`, which reads it with `parse_strategy`).
std::string encode_settings(const strategy_params& params, std::string_view strategy = {});
/// Throws `std::invalid_argument` on a malformed line. With `strategy`, also gives the strategy
/// named in the line (empty if none).
strategy_params decode_settings(std::string_view line, std::string* strategy = nullptr);

/// A job: which base, at which index.
std::string encode_job(std::size_t index, currency_code base);
std::optional<std::pair<std::size_t, currency_code>> decode_job(std::string_view line);

/// An outcome, with its error as category name, value and message, and its timing.
std::string encode_outcome(std::size_t index, const rates_outcome& outcome);
/// Error codes of fxrates' and the system's categories come back as such; others become
/// `errc::worker_failed` with the original message kept in the diagnostics.
std::optional<std::pair<std::size_t, rates_outcome>> decode_outcome(std::string_view line);

/// A whole run report: a line with the run's figures, then one outcome line per base.
std::string encode_report(const run_report& report);
/// Empty if the text is not a report.
std::optional<run_report> decode_report(std::string_view text);

} // namespace fxrates::detail
