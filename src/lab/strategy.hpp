#pragma once

#include <fxrates/client_params.hpp>
#include <fxrates/currency.hpp>
#include <fxrates/fetch_outcome.hpp>
#include <fxrates/rates_outcome.hpp>
#include <fxrates/rates_query.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace fxrates {

/// How a batch of bases is fetched: the same job, done the ways the book's chapter does it. The
/// strategy is a value; everything else (transport, decoding, presentation) is shared.
enum class strategy
{
    sequential,            ///< one request after another, on the calling thread
    thread_per_item,       ///< a thread per base, all joined
    thread_pool,           ///< N worker threads, a work queue and a results queue
    thread_pool_throttled, ///< the same, sharing a blocking token bucket
    process_pool,          ///< N worker processes (fresh `fxrates` processes), JSON over pipes
    async,                 ///< coroutines on one event loop, all requests concurrent
    async_throttled,       ///< the same, behind the asynchronous token bucket
    offload,               ///< coroutines awaiting a blocking client on a thread pool
};

/// Every strategy, in the order the book introduces them.
std::span<const strategy> all_strategies() noexcept;

/// The command-line name, e.g. `thread-pool`.
std::string_view to_string(strategy kind) noexcept;

/// Parses a command-line name; empty if unknown.
std::optional<strategy> parse_strategy(std::string_view name) noexcept;

/// What to fetch, and how.
struct strategy_params
{
    client_params client;
    std::vector<currency_code> bases;
    rates_query query;

    /// Workers of the pools (threads, processes, or the offload pool). The book uses 4.
    std::size_t workers = 4;

    /// The throttle of the throttled strategies: requests per second (the book uses 10) and the
    /// burst (0: one second's worth). Their own, beside the client's per-origin limit
    /// (`client.rate`), which every strategy that uses the asynchronous client keeps.
    double throttle_rate = 10;
    double throttle_burst = 0;

    /// The `fxrates` program, for the process pool's workers.
    std::string worker_program;

    /// Stops the run early (e.g. on Ctrl-C): bases not finished complete with
    /// `operation_aborted`, finished ones are kept. The asynchronous strategies abort requests in
    /// flight at once; the others stop taking new bases, and their requests in flight end within
    /// the client's time limits.
    std::stop_token stop;

    /// Told of each base as it ends (for progress and failures shown as they happen), on the
    /// calling thread for the threaded strategies, on the event loop for the asynchronous ones, and
    /// on the supervising thread for the process pool. Not called by `run_strategy_in_process`.
    outcome_observer on_outcome;
};

/// What a run did and what it cost: of the rates job (`run_report`) or of the URL job
/// (`fetch_run_report`).
template <class Outcome>
struct basic_run_report
{
    strategy kind{};
    /// One per item (base or URL), in input order, with its timing.
    std::vector<Outcome> outcomes;
    std::chrono::steady_clock::time_point started{};
    double wall_seconds = 0;
    /// CPU of this process (and of child processes, for the process pool), user + system.
    double cpu_seconds = 0;
    /// Most threads (of this process and its workers) alive at once during the run.
    std::size_t peak_threads = 0;
    /// Peak resident memory in KiB: of the process, plus each worker's peak for the process pool
    /// (the workers run side by side, so their peaks add up).
    long peak_rss_kib = 0;
};

using run_report = basic_run_report<rates_outcome>;
using fetch_run_report = basic_run_report<fetch_outcome>;

/// Runs `kind` on `params`; never throws for network or API errors (they are in the outcomes).
run_report run_strategy(strategy kind, const strategy_params& params);

/// Runs `kind` in a fresh process of `params.worker_program` (the `fxrates` program), so that its
/// figures are its own: CPU, peak memory and threads of that process (and its workers) alone.
/// Never throws; a process that fails yields outcomes with `errc::worker_failed`.
run_report run_strategy_in_process(strategy kind, const strategy_params& params);

/// The URL job: runs `kind` on `items` (any URLs; `params.bases` and `params.query` are not used),
/// each body going to its item's sink (or into its outcome without one), and `observe` told of each
/// item as it ends (once, calls serialised, as `params.on_outcome` is for the rates job).
///
/// Sinks: an item's sink is called on the thread that runs the item (a worker thread of the
/// threaded strategies, the event loop of the asynchronous ones, the supervising thread of the
/// process pool, whose workers send the bodies back over their pipes in bounded chunks); sinks that
/// share state must lock it. Unlike the rates job no batch-wide time limit applies (as for
/// `client::async_fetch_batch`): each item is bounded by the client's request limits.
fetch_run_report run_fetch_strategy(strategy kind, const strategy_params& params, std::vector<fetch_item> items,
                                    fetch_observer observe = {});

/// The URL job on `urls` in a fresh process, as `run_strategy_in_process` does for rates: the
/// bodies are counted and discarded there (only their sizes come back, in the outcomes).
fetch_run_report run_fetch_strategy_in_process(strategy kind, const strategy_params& params,
                                               const std::vector<std::string>& urls);

/// The body of `fxrates strategy-worker`: reads a strategy and its settings as one JSON line on
/// standard input, runs it, and writes the report on standard output. Returns the exit code.
int run_strategy_worker();

/// The body of a process-pool worker (`fxrates worker`): reads its settings and then one job per
/// line from standard input, answers one outcome per line on standard output, and returns 0 at
/// the end of input (1 if the settings are malformed).
int run_process_pool_worker();

} // namespace fxrates
