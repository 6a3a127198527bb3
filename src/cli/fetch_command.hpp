#pragma once

#include "cli/common_options.hpp"
#include "cli/fetch_strategies.hpp"

#include <fxrates/client_params.hpp>

#include <CLI/App.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace fxrates::cli {

/// Options of `fxrates fetch`, as typed; validated by `run_fetch`.
struct fetch_options
{
    std::vector<std::string> urls;
    std::string input;       ///< -i FILE, "-" for stdin
    std::string url_template; ///< --template, with {} for each value
    std::string values;      ///< --values FILE, "-" for stdin
    std::string output_dir;  ///< -o DIR; empty: bodies to stdout
    std::string name = "{name}";
    bool overwrite = false;
    bool refresh = false;
    bool continue_run = false; ///< --continue: skip complete files, resume partial ones ///< --refresh: conditional requests for files an earlier run saved
    std::vector<std::string> fields; ///< --field /json/pointer
    std::string report;      ///< --report FILE, "-" for stdout
    std::string shard;       ///< --shard K/N; empty: the whole list
    trust_options trust;
    std::size_t concurrency = 100;
    bool concurrency_given = false; ///< --concurrency was on the command line (a strategy has --threads instead)
    std::size_t per_host = 6;
    double rate = 0;
    double burst = 0;
    unsigned retries = 2;
    double timeout_seconds = 600;
    std::uint64_t max_size = 0; ///< 0: no limit
    unsigned max_redirects = 10;
    std::uint64_t max_header = fxrates::client_params{}.header_limit;
    bool no_compression = false;
    bool quiet = false;
    std::size_t loops = 1; ///< --loops: event loops (threads), 0 = one per core
    fetch_strategy_options strategy; ///< --strategy, --threads (cli/fetch_strategies.hpp)
};

/// Adds the `fetch` subcommand to `app`; its options are written into `options`.
CLI::App* add_fetch_command(CLI::App& app, fetch_options& options);

/// Fetches the URLs. Returns the exit code: 0 all fetched, 2 some failed (each explained), 1 all
/// failed or the input was wrong, 128 + N after signal N (finished files kept, the rest listed).
int run_fetch(const fetch_options& options);

} // namespace fxrates::cli
