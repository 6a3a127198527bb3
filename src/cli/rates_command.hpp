#pragma once

#include "cli/common_options.hpp"

#include <fxrates/client_params.hpp>

#include <CLI/App.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace fxrates::cli {

/// Options of `fxrates rates`, as typed; validated by `run_rates`.
struct rates_options
{
    std::vector<std::string> bases{"USD", "EUR", "PLN", "NOK", "CZK"};
    std::vector<std::string> symbols{"USD", "EUR", "PLN", "NOK", "CZK"};
    std::string date;
    std::string api = "https://api.vatcomply.com";
    bool local = false;
    trust_options trust;
    double timeout_seconds = 30;
    std::size_t concurrency = 100;
    bool concurrency_given = false; ///< --concurrency was on the command line (only async uses it)
    bool threads_given = false;     ///< --threads was on the command line (only the pools use it)
    std::size_t max_handshakes = fxrates::client_params{}.max_handshakes;
    std::string format = "table";
    std::string strategy = "async";
    double rate = 0;
    double burst = 0;
    std::size_t threads = 4;
    unsigned retries = 2;
    unsigned max_redirects = fxrates::client_params{}.max_redirects;
    bool no_compression = false;
    bool quiet = false;
    std::uint64_t max_body = fxrates::client_params{}.body_limit;
    std::uint64_t max_header = fxrates::client_params{}.header_limit;
};

/// Adds the `rates` subcommand to `app`; its options are written into `options`.
CLI::App* add_rates_command(CLI::App& app, rates_options& options);

/// Fetches the rates and prints them. Returns the exit code: 0 all bases succeeded, 2 some
/// failed (the others printed), 1 all failed or the input was wrong.
int run_rates(const rates_options& options);

} // namespace fxrates::cli
