#pragma once

#include <fxrates/client_params.hpp>
#include <fxrates/rates_query.hpp>
#include "lab/strategy.hpp"

#include <CLI/App.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

// What `fxrates rates` and `fxrates compare` share: the options that map to the client's settings
// are declared, checked and turned into settings here once, so that the two commands cannot drift.
namespace fxrates::cli {

/// Most requests one strategy run may make: each keeps its outcome (rates, timing, diagnostics)
/// until the end, about 2 KiB, so a million is ~2 GB at most.
inline constexpr std::size_t max_requests_per_strategy = 1'000'000;

/// `--cacert FILE` (a regular file: a FIFO would block for ever) and `--insecure`, which exclude
/// each other and `local` (the built-in server, whose own certificate is trusted and nothing else).
struct trust_options
{
    std::string ca_file;
    bool insecure = false;
};

struct trust_option_handles
{
    CLI::Option* cacert;
    CLI::Option* insecure;
};

trust_option_handles add_trust_options(CLI::App& command, trust_options& options, CLI::Option* local,
                                       const std::string& cacert_help, const std::string& insecure_help);

/// `--date`: empty given explicitly is refused at parse time; an empty string here means not given.
CLI::Option* add_date_option(CLI::App& command, std::string& date);

/// Reads `--date` into `query`; false, having said why, if it is no calendar date.
bool read_date(std::string_view command, const std::string& text, rates_query& query);

/// Turns the trust options into the client's settings: the CA file replaces the system's store (as in
/// curl), and a CA file that cannot be loaded is refused once, now, rather than per request.
/// `--insecure` prints its one warning line here. False, having said why, on a bad CA file.
bool apply_trust_options(std::string_view command, const trust_options& options, client_params& params);

/// The whole run may take `seconds`: no phase, retry plan or queue wait may plan past it.
void apply_time_limit(double seconds, client_params& params);

/// `seconds` as the limit of each URL of a download (`fetch --timeout`): every attempt and the
/// wait between them, however long the body; a stalled transfer is still caught by the client's
/// connect, first-byte and read-idle limits.
void apply_per_url_time_limit(double seconds, client_params& params);

/// `--concurrency` is the asynchronous client's: with a strategy `kind` that does not use it, says
/// so on stderr (what that strategy runs at once instead) and returns false.
bool check_concurrency_applies(std::string_view command, strategy kind, std::string_view threads_option);

/// `--threads` is the pools' (thread-pool, process-pool, offload): with a strategy `kind` that has
/// no pool, says so on stderr (what that strategy runs at once instead) and returns false.
bool check_threads_apply(std::string_view command, strategy kind);

/// False, having said why and naming the limit, when `requests` requests (one per base) cannot be
/// run by every strategy of `kinds`: more than `max_requests_per_strategy`, or more threads with a
/// connection each than this process may open files (thread-per-item). Raises the soft limit on open
/// files to the hard one first.
bool check_request_count(std::string_view command, std::span<const strategy> kinds, std::size_t requests,
                         std::string_view how_to_reduce);

} // namespace fxrates::cli
