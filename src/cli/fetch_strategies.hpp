#pragma once

// `fxrates fetch --strategy`: the URL list fetched by one of the lab's strategies instead of the
// client's own asynchronous batch. Kept apart from fetch_command.cpp, which only branches here:
// every output (stdout in order, files, --field, --report, progress, exit codes, Ctrl-C) stays
// fetch_command's, fed the same outcomes in the same way whatever the strategy.

#include <fxrates/client_params.hpp>
#include <fxrates/fetch_outcome.hpp>
#include "lab/strategy.hpp"

#include <CLI/App.hpp>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

namespace fxrates::cli::fetch
{
class locked_sink;
}

namespace fxrates::cli
{

/// `--strategy NAME` and `--threads N` of `fxrates fetch`.
struct fetch_strategy_options
{
    std::string name = "async";
    /// Workers of thread-pool, process-pool and offload. 50: the URL article's queue served by at
    /// most 50 threads (its image downloader used 8 threads, its process pool 4).
    std::size_t threads = 50;
    bool threads_given = false; ///< --threads was on the command line (only the pools use it)
};

void add_fetch_strategy_options(CLI::App& command, fetch_strategy_options& options);

/// The strategy chosen, or nullopt for `async`: the client's own batch, fetch_command's own path.
std::optional<strategy> chosen_fetch_strategy(const fetch_strategy_options& options);

/// A fetch batch run by `kind` on a thread of its own, presented to `context`'s thread as
/// `client::async_fetch_batch` would be: `observe` runs there, once per item, and then `done`;
/// a cancellation emitted on `cancel` (on `context`'s thread) stops the strategy, whose unfinished
/// items end with `operation_aborted`.
///
/// The items' sinks are called on the strategy's threads (the process pool's come back through its
/// workers' pipes); every sink call, and every `observe` call, holds one lock, so the sinks and
/// `observe` may share unsynchronised state (the ordered stdout, the report) as they do on one
/// event loop.
class strategy_fetch
{
public:
    strategy_fetch(boost::asio::io_context& context, strategy kind, std::size_t threads,
                   const client_params& params, std::vector<fetch_item> items, fetch_observer observe,
                   boost::asio::cancellation_slot cancel, std::function<void()> done);
    /// Waits for the strategy's thread (it has ended once `done` has run).
    ~strategy_fetch();

    strategy_fetch(const strategy_fetch&) = delete;
    strategy_fetch& operator=(const strategy_fetch&) = delete;

private:

    void tell(std::size_t index, const fetch_outcome& outcome);

    std::mutex lock_;
    std::stop_source stop_;
    boost::asio::cancellation_slot cancel_;
    fetch_observer observe_;
    std::vector<char> told_; // on the loop's thread: which items `observe_` was told of
    std::vector<std::unique_ptr<fetch::locked_sink>> sinks_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::thread thread_;
};

} // namespace fxrates::cli
