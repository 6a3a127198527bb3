#pragma once

#include <fxrates/server/server_params.hpp>

#include <CLI/App.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace fxrates::cli {

/// Options of `fxrates serve`.
struct serve_options
{
    server_params params;
    double latency_ms = 0;
    std::string certificate_out;
    std::string history_file;
    std::vector<std::string> faults;
    std::uint64_t seed = 1;
    bool log_requests = false;
};

/// Adds the `serve` subcommand to `app`; its options are written into `options`.
CLI::App* add_serve_command(CLI::App& app, serve_options& options);

/// Runs the server until SIGINT or SIGTERM. Returns the process exit code.
int run_serve(serve_options& options);

} // namespace fxrates::cli
