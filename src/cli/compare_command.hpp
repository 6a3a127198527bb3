#pragma once

#include "cli/common_options.hpp"

#include <CLI/App.hpp>

#include <string>
#include <vector>

namespace fxrates::cli {

/// Options of `fxrates compare`, as typed; validated by `run_compare`.
struct compare_options
{
    std::vector<std::string> strategies;
    std::vector<std::string> bases{"USD", "EUR", "PLN", "NOK", "CZK"};
    std::vector<std::string> symbols{"USD", "EUR", "PLN", "NOK", "CZK"};
    std::size_t repeat = 1;
    std::string date;
    std::string api;
    bool local = false; // the default anyway; accepted so that `--local` reads as in `rates`
    trust_options trust;
    double latency_ms = 100;
    std::size_t threads = 4;
    double rate = 10;
    std::size_t concurrency = 100;
    double timeout_seconds = 120;
    std::string format = "table";
    std::string timeline_file;
    std::string trace_file;
    std::string urls_file;    ///< --urls FILE: the URL job instead of rates
    std::string url_template; ///< --template, with --values
    std::string values;
};

/// Adds the `compare` subcommand to `app`.
CLI::App* add_compare_command(CLI::App& app, compare_options& options);

/// Runs every chosen strategy on the same job and prints the matrix and the comparison table, or
/// with `--format json|csv` the comparison alone as data (progress and failures go to stderr).
/// With `--urls` (or `--template` and `--values`) the job is a URL list, as `fetch` reads it: the
/// same table and timeline, without the matrix; the bodies are dropped (their sizes are compared).
/// Returns 0 if every request of every strategy succeeded, 2 if some failed, 1 on bad input.
int run_compare(const compare_options& options);

} // namespace fxrates::cli
