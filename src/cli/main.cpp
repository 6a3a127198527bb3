#include "cli/compare_command.hpp"
#include "cli/fetch_command.hpp"
#include "cli/rates_command.hpp"
#include "cli/reference.hpp"
#include "cli/serve_command.hpp"
#include "cli/usage_errors.hpp"

#include <fxrates/server/ecb_history.hpp>
#include "lab/strategy.hpp"

#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

// Exit codes (each command's --help lists its own, see cli/reference.cpp): 0 success, 1 usage
// error or total failure, 2 partial failure (some bases failed), 128 + N after signal N.
int main(int argc, char** argv)
{
    CLI::App app{"fxrates: foreign-exchange reference rates for many base currencies at once", "fxrates"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "fxrates 0.1.0");

    fxrates::cli::rates_options rates_options;
    auto* rates = fxrates::cli::add_rates_command(app, rates_options);
    fxrates::cli::fetch_options fetch_options;
    auto* fetch = fxrates::cli::add_fetch_command(app, fetch_options);
    fxrates::cli::compare_options compare_options;
    auto* compare = fxrates::cli::add_compare_command(app, compare_options);
    fxrates::cli::serve_options serve_options;
    auto* serve = fxrates::cli::add_serve_command(app, serve_options);
    // The process-pool strategy's worker: started by fxrates itself, not by people.
    auto* worker = app.add_subcommand("worker", "")->group("");
    // `fxrates compare` runs each strategy in a fresh process of this program.
    auto* strategy_worker = app.add_subcommand("strategy-worker", "")->group("");
    std::string reference_kind;
    auto* reference = fxrates::cli::add_reference_command(app, reference_kind);
    fxrates::cli::add_help_footers(app);

    try
    {
        app.parse(argc, argv);
    }
    catch (const CLI::ParseError& e)
    {
        return fxrates::cli::report_parse_error(app, e, argc, argv);
    }

    try
    {
        if (rates->parsed())
            return fxrates::cli::run_rates(rates_options);
        if (fetch->parsed())
            return fxrates::cli::run_fetch(fetch_options);
        if (worker->parsed())
            return fxrates::run_process_pool_worker();
        if (strategy_worker->parsed())
            return fxrates::run_strategy_worker();
        if (compare->parsed())
            return fxrates::cli::run_compare(compare_options);
        if (serve->parsed())
            return fxrates::cli::run_serve(serve_options);
        if (reference->parsed())
            return fxrates::cli::run_reference(app, reference_kind);
    }
    catch (const std::exception& e)
    {
        std::cerr << "fxrates: " << e.what() << '\n';
        return 1;
    }
    return 1;
}
