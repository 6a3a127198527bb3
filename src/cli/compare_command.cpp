#include "cli/compare_command.hpp"

#include "cli/currency_options.hpp"
#include "cli/input_checks.hpp"
#include "cli/interrupt_watch.hpp"
#include "cli/output.hpp"

#include <fxrates/client_params.hpp>
#include <fxrates/date.hpp>
#include "cli/present.hpp"
#include <fxrates/server/local_server.hpp>
#include "lab/strategy.hpp"
#include "lab/timeline.hpp"

#include <CLI/CLI.hpp>

#include <boost/asio/error.hpp>

#include <algorithm>
#include <fstream>
#include <cstdio>
#include <iostream>
#include <optional>

namespace fxrates::cli {

namespace {

// A row of the comparison table from a strategy's run; `sequential_wall` is 0 without a
// sequential run to compare with.
comparison_row row_of(const run_report& report, double sequential_wall)
{
    comparison_row row;
    row.strategy = to_string(report.kind);
    row.wall_seconds = report.wall_seconds;
    row.cpu_seconds = report.cpu_seconds;
    row.peak_threads = report.peak_threads;
    row.peak_rss_kib = report.peak_rss_kib;
    if (sequential_wall > 0 && report.wall_seconds > 0)
        row.speedup = sequential_wall / report.wall_seconds;
    row.requests = report.outcomes.size();
    row.failed = static_cast<std::size_t>(
        std::count_if(report.outcomes.begin(), report.outcomes.end(), [](const auto& o) { return !o.ok(); }));
    return row;
}

} // namespace

CLI::App* add_compare_command(CLI::App& app, compare_options& options)
{
    auto* compare = app.add_subcommand(
        "compare", "Run the same job with every concurrency strategy and compare their time, CPU and memory");
    std::vector<std::string> names;
    for (auto kind : all_strategies())
        names.emplace_back(to_string(kind));
    compare->add_option("--strategies", options.strategies, "Strategies to run, comma-separated (default: all)")
        ->delimiter(',')
        ->check(CLI::IsMember(names));
    // No delimiter for CLI11: it would skip empty elements, and `USD,,EUR` is a typo to report.
    compare->add_option("--base", options.bases, "Base currencies, comma-separated")->capture_default_str();
    compare->add_option("--symbols", options.symbols, "Currencies shown for each base, comma-separated")
        ->capture_default_str();
    compare->add_option("--repeat", options.repeat, "Repeat the bases K times (5K requests for the book's five)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{10000}))
        ->capture_default_str();
    add_date_option(*compare, options.date);
    auto* api = compare->add_option("--api", options.api, "Use this API instead of the built-in local server");
    auto* local =
        compare->add_flag("--local", options.local, "Use the built-in look-alike server (the default)")->excludes(api);
    auto trust = add_trust_options(*compare, options.trust, local, "Trust the CAs in this PEM file (with --api)",
                                   "Do not verify the server's certificate (with --api)");
    trust.cacert->needs(api);
    trust.insecure->needs(api);
    compare->add_option("--latency", options.latency_ms, "The local server's delay per response, ms")
        ->check(finite_number({.min = 0, .max = 60000}))
        ->excludes(api)
        ->capture_default_str();
    compare->add_option("--threads", options.threads, "Workers of the pools (threads, processes, offload)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1024}))
        ->capture_default_str();
    compare->add_option("--rate", options.rate, "Requests per second of the throttled strategies")
        ->check(finite_number({.min = 0.001, .max = 1e6}))
        ->capture_default_str();
    compare->add_option("--concurrency", options.concurrency, "Most connections at once (async strategies)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{10000}))
        ->capture_default_str();
    compare->add_option("--timeout", options.timeout_seconds, "Seconds each strategy may take")
        ->check(finite_number({.min = 0.1, .max = 3600}))
        ->capture_default_str();
    compare
        ->add_option("--format", options.format,
                     "Output: table (the matrix and the comparison), json or csv (the comparison as data)")
        ->check(CLI::IsMember({"table", "json", "csv"}))
        ->capture_default_str();
    compare->add_option("--timeline", options.timeline_file, "Draw the requests of every strategy to this SVG file")
        ->check(not_empty("a file name for the SVG timeline"));
    compare->add_option("--trace", options.trace_file, "Write a Chrome trace (Perfetto) to this JSON file")
        ->check(not_empty("a file name for the trace"));
    return compare;
}

int run_compare(const compare_options& options)
{
    if (!check_standard_output("compare"))
        return 1;
    if (!options.timeline_file.empty() && options.timeline_file == options.trace_file)
    {
        report("compare", "--timeline and --trace name the same file, '" + options.timeline_file +
                              "'; one would overwrite the other");
        return 1;
    }
    auto bases = read_currency_codes(options.bases, "compare", "--base");
    auto symbols = read_currency_codes(options.symbols, "compare", "--symbols");
    if (!bases || !symbols)
        return 1;
    std::vector<strategy> kinds;
    for (const auto& name : options.strategies)
        kinds.push_back(*parse_strategy(name));
    if (kinds.empty())
        kinds.assign(all_strategies().begin(), all_strategies().end());

    // Refused before the bases are repeated: that list alone could exhaust the memory.
    if (!check_request_count("compare", kinds, bases->size() * options.repeat, "give fewer bases or a smaller --repeat"))
        return 1;
    strategy_params params;
    for (std::size_t k = 0; k < options.repeat; ++k)
        params.bases.insert(params.bases.end(), bases->begin(), bases->end());
    params.query.symbols = *symbols;
    if (!read_date("compare", options.date, params.query))
        return 1;
    params.workers = options.threads;
    params.throttle_rate = options.rate;
    params.client.max_connections = options.concurrency;
    apply_time_limit(options.timeout_seconds, params.client);
    params.worker_program = "/proc/self/exe";

    // Ctrl-C stops the comparison: the strategies that finished are shown, the one under way
    // stops early and keeps what it had, and the exit code is 130. Made before any thread (the
    // local server's included), so that only the watch receives the signals; each strategy's
    // process inherits the mask and is stopped by the ending of its input.
    interrupt_watch interrupts;
    params.stop = interrupts.token();

    auto format = parse_output_format(options.format).value_or(output_format::table);
    comparison table;
    table.requests_per_strategy = params.bases.size();
    std::optional<local_server> server;
    if (options.api.empty())
    {
        server_params settings;
        settings.latency = to_duration(options.latency_ms / 1000).value_or(settings.latency);
        server.emplace(settings);
        params.client.api_url = server->base_url();
        params.client.ca_pem = server->certificate_pem();
        params.client.use_system_trust = false;
        table.latency_ms = options.latency_ms;
    }
    else
    {
        if (auto why = describe_bad_api_url(options.api); !why.empty())
        {
            report("compare", "--api: bad API URL: " + why);
            return 1;
        }
        params.client.api_url = options.api;
        if (!apply_trust_options("compare", options.trust, params.client))
            return 1;
        table.api = options.api;
    }

    std::vector<run_report> reports;
    std::string not_run;
    for (auto kind : kinds)
    {
        if (interrupts.signal() != 0)
        {
            not_run += (not_run.empty() ? "" : ", ") + std::string(to_string(kind));
            continue;
        }
        // How far the comparison is: which strategy, of how many, and what each gave as it ends.
        std::cerr << "fxrates compare: running " << to_string(kind) << " (" << reports.size() + 1 << " of "
                  << kinds.size() << ")...\n";
        reports.push_back(run_strategy_in_process(kind, params));
        const auto& done = reports.back();
        std::size_t failed = 0;
        for (const auto& outcome : done.outcomes)
            failed += outcome.ok() ? 0 : 1;
        char line[160];
        std::snprintf(line, sizeof line, "fxrates compare: %s done in %.2f s, %zu of %zu failed\n",
                      std::string(to_string(kind)).c_str(), done.wall_seconds, failed, done.outcomes.size());
        std::cerr << line;
    }
    bool interrupted = interrupts.signal() != 0;
    if (reports.empty())
    {
        std::cerr << "fxrates compare: interrupted before any strategy ran\n";
        return 128 + interrupts.signal();
    }

    // The matrix once: every strategy fetched the same rates (checked below). Each row comes from
    // the sequential run when it has it, else from any strategy that has it.
    const run_report* reference = &reports.front();
    for (const auto& report : reports)
        if (report.kind == strategy::sequential)
            reference = &report;
    std::vector<rates_outcome> first_rows;
    for (std::size_t i = 0; i < bases->size(); ++i)
    {
        const rates_outcome* row =
            i < reference->outcomes.size() && reference->outcomes[i].ok() ? &reference->outcomes[i] : nullptr;
        for (const auto& report : reports)
            if (!row && i < report.outcomes.size() && report.outcomes[i].ok())
                row = &report.outcomes[i];
        if (row)
            first_rows.push_back(*row);
    }
    // The matrix is for people; json and csv hold only the comparison, and `fxrates rates --format
    // json` gives the rates as data.
    std::string out;
    if (format == output_format::table)
    {
        std::string matrix = render_table(first_rows, *symbols, reference->wall_seconds);
        out = matrix.substr(0, matrix.rfind("\ntime elapsed")) + "\n";
    }

    std::size_t failures = 0;
    for (const auto& run : reports)
    {
        for (std::size_t i = 0; i < run.outcomes.size(); ++i)
        {
            const auto& outcome = run.outcomes[i];
            if (!outcome.ok() && interrupted && outcome.error == boost::asio::error::operation_aborted)
                continue; // listed once below, as the interruption
            if (!outcome.ok())
            {
                if (++failures <= 10)
                    report("compare", std::string(to_string(run.kind)) + ": " + describe_failure(outcome));
            }
            else if (i < reference->outcomes.size() && reference->outcomes[i].ok() &&
                     outcome.value != reference->outcomes[i].value)
                report("compare", std::string(to_string(run.kind)) + " fetched different rates for " +
                                           outcome.base.str() + " than " + std::string(to_string(reference->kind)));
        }
    }
    if (failures > 10)
        report("compare", "... and " + std::to_string(failures - 10) + " more failures");

    // The strategy under way at Ctrl-C stopped early: its row says so, and a partial sequential
    // run is no baseline for speed-ups.
    auto cut_short = [&](const run_report& run) {
        return interrupted && &run == &reports.back() &&
               std::any_of(run.outcomes.begin(), run.outcomes.end(),
                           [](const auto& o) { return o.error == boost::asio::error::operation_aborted; });
    };
    // The reference is the sequential run when there is one: the speed-ups are against it.
    double sequential_wall =
        reference->kind == strategy::sequential && !cut_short(*reference) ? reference->wall_seconds : 0;

    for (const auto& run : reports)
    {
        table.rows.push_back(row_of(run, sequential_wall));
        table.rows.back().interrupted = cut_short(run);
    }
    out += render_comparison(format, table);
    bool written = write_standard_output("compare", out) && close_standard_output("compare");
    if (written && !options.timeline_file.empty())
        written = write_file("compare", options.timeline_file, render_timeline_svg(reports));
    if (written && !options.trace_file.empty())
        written = write_file("compare", options.trace_file, render_chrome_trace(reports));
    if (interrupted)
    {
        const auto& last = reports.back().outcomes;
        bool cut_short = std::any_of(last.begin(), last.end(), [](const rates_outcome& outcome) {
            return outcome.error == boost::asio::error::operation_aborted;
        });
        std::cerr << "fxrates compare: interrupted"
                  << (cut_short ? "; " + std::string(to_string(reports.back().kind)) + " was stopped early" : "")
                  << (not_run.empty() ? "" : "; not run: " + not_run) << '\n';
        return written ? 128 + interrupts.signal() : 1;
    }
    if (!written)
        return 1;
    return failures == 0 ? 0 : 2;
}

} // namespace fxrates::cli
