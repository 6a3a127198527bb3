#pragma once

// The process pool's messages, one JSON object per line: the job settings, a job, an outcome.

#include <fxrates/fetch_outcome.hpp>
#include <fxrates/rates_outcome.hpp>
#include "lab/strategy.hpp"

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace fxrates::detail {

/// What a settings line says besides the settings: which strategy to run (for a
/// `strategy-worker`, which reads it with `parse_strategy`; empty for a pool worker), which job
/// (`rates_job::wire_name` or `fetch_job::wire_name`; empty means rates, as before there were two)
/// and, for a `strategy-worker` of the URL job, its URLs.
struct settings_header
{
    std::string strategy;
    std::string job;
    std::vector<std::string> urls;
};

/// The first line to a worker: what every job shares, and `header`.
std::string encode_settings(const strategy_params& params, const settings_header& header = {});
/// Throws `std::invalid_argument` on a malformed line. With `header`, also gives what it says.
strategy_params decode_settings(std::string_view line, settings_header* header = nullptr);

/// A job: which base, at which index.
std::string encode_job(std::size_t index, currency_code base);
std::optional<std::pair<std::size_t, currency_code>> decode_job(std::string_view line);

/// A URL job: which URL (and the fields to send), at which index.
std::string encode_fetch_job(std::size_t index, const fetch_item& item);
std::optional<std::pair<std::size_t, fetch_item>> decode_fetch_job(std::string_view line);

/// "Send the next job no sooner than `at`": the pool paces its workers' requests (--rate) by
/// sending each job ahead with the time it may go, which the worker waits for itself (steady_clock
/// is the system's monotonic clock, the same in every process), so that the pipe's and the
/// worker's wake-up delays do not bring two requests closer than the rate allows.
std::string encode_not_before(std::chrono::steady_clock::time_point at);
std::optional<std::chrono::steady_clock::time_point> decode_not_before(std::string_view line);

/// The job's retry budget, which a process pool keeps for all its workers: each job goes with a
/// grant, `{"retries":N}`, taken from the budget (no more than one request may make on its own),
/// and its answer comes after `{"retries_left":N}`, what the job did not spend, which goes back.
/// So the workers together retry as one client's batch would, and a worker whose items all succeed
/// holds nothing back from the others.
std::string encode_retry_grant(std::size_t retries);
std::optional<std::size_t> decode_retry_grant(std::string_view line);
std::string encode_retries_left(std::size_t retries);
std::optional<std::size_t> decode_retries_left(std::string_view line);

/// A worker's first line: its client is made, and it takes jobs.
std::string encode_ready();
bool is_ready_line(std::string_view line);

/// An outcome, with its error as category name, value and message, and its timing.
std::string encode_outcome(std::size_t index, const rates_outcome& outcome);
/// The same for a URL; its `body` does not travel (bodies go as data frames, see process_pool.cpp).
std::string encode_outcome(std::size_t index, const fetch_outcome& outcome);
std::optional<std::pair<std::size_t, fetch_outcome>> decode_fetch_outcome(std::string_view line);
/// Error codes of fxrates' and the system's categories come back as such; others become
/// `errc::worker_failed` with the original message kept in the diagnostics.
std::optional<std::pair<std::size_t, rates_outcome>> decode_outcome(std::string_view line);

/// A whole run report: a line with the run's figures, then one outcome line per item.
std::string encode_report(const run_report& report);
std::string encode_report(const fetch_run_report& report);
/// Empty if the text is not a report.
std::optional<run_report> decode_report(std::string_view text);
std::optional<fetch_run_report> decode_fetch_report(std::string_view text);

} // namespace fxrates::detail
