#include "cli/compare_command.hpp"

#include "cli/currency_options.hpp"
#include "cli/fetch/url_list.hpp"
#include "cli/input_checks.hpp"
#include "cli/interrupt_watch.hpp"
#include "cli/output.hpp"
#include "cli/url_input.hpp"

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
#include <limits>
#include <optional>
#include <span>

namespace fxrates::cli {

namespace {

// A row of the comparison table from a strategy's run; `sequential_wall` is 0 without a
// sequential run to compare with.
template <class Report>
comparison_row row_of(const Report& report, double sequential_wall)
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

// Runs each of `kinds` through `run_one` (each in a fresh process), saying on stderr how far the
// comparison is; after Ctrl-C the rest are skipped and named in `not_run`.
template <class RunOne>
auto run_each(const std::vector<strategy>& kinds, const interrupt_watch& interrupts, std::string& not_run,
              RunOne run_one)
{
    std::vector<decltype(run_one(kinds.front()))> reports;
    for (auto kind : kinds)
    {
        if (interrupts.signal() != 0)
        {
            not_run += (not_run.empty() ? "" : ", ") + std::string(to_string(kind));
            continue;
        }
        std::cerr << "fxrates compare: running " << to_string(kind) << " (" << reports.size() + 1 << " of "
                  << kinds.size() << ")...\n";
        reports.push_back(run_one(kind));
        const auto& done = reports.back();
        std::size_t failed = 0;
        for (const auto& outcome : done.outcomes)
            failed += outcome.ok() ? 0 : 1;
        char line[160];
        std::snprintf(line, sizeof line, "fxrates compare: %s done in %.2f s, %zu of %zu failed\n",
                      std::string(to_string(kind)).c_str(), done.wall_seconds, failed, done.outcomes.size());
        std::cerr << line;
    }
    return reports;
}

// The sequential run if there is one, else the first: what the others are compared with.
template <class Report>
const Report& reference_run(const std::vector<Report>& reports)
{
    const Report* reference = &reports.front();
    for (const auto& report : reports)
        if (report.kind == strategy::sequential)
            reference = &report;
    return *reference;
}

// Reports each failure (the first ten) on stderr, and each answer that differs from the
// reference's (`differs(outcome, reference_outcome)` says what differs, or nothing); returns the
// failures. An interruption's aborts are left out: listed once, as the interruption.
template <class Report, class Differs>
std::size_t report_failures(const std::vector<Report>& reports, const Report& reference, bool interrupted,
                            Differs differs)
{
    std::size_t failures = 0;
    for (const auto& run : reports)
    {
        for (std::size_t i = 0; i < run.outcomes.size(); ++i)
        {
            const auto& outcome = run.outcomes[i];
            if (!outcome.ok() && interrupted && outcome.error == boost::asio::error::operation_aborted)
                continue;
            if (!outcome.ok())
            {
                if (++failures <= 10)
                    report("compare", std::string(to_string(run.kind)) + ": " + describe_failure(outcome));
            }
            else if (i < reference.outcomes.size() && reference.outcomes[i].ok())
            {
                if (auto what = differs(outcome, reference.outcomes[i]); !what.empty())
                    report("compare", std::string(to_string(run.kind)) + " fetched " + what + " than " +
                                          std::string(to_string(reference.kind)));
            }
        }
    }
    if (failures > 10)
        report("compare", "... and " + std::to_string(failures - 10) + " more failures");
    return failures;
}

// The comparison's rows, its output after `out` (the matrix, for rates), the timeline and trace,
// and the exit code.
template <class Report>
int present_runs(const compare_options& options, comparison& table, std::string out,
                 const std::vector<Report>& reports, const Report& reference, const interrupt_watch& interrupts,
                 const std::string& not_run, std::size_t failures)
{
    bool interrupted = interrupts.signal() != 0;
    // The strategy under way at Ctrl-C stopped early: its row says so, and a partial sequential
    // run is no baseline for speed-ups.
    auto cut_short = [&](const Report& run) {
        return interrupted && &run == &reports.back() &&
               std::any_of(run.outcomes.begin(), run.outcomes.end(),
                           [](const auto& o) { return o.error == boost::asio::error::operation_aborted; });
    };
    // The reference is the sequential run when there is one: the speed-ups are against it.
    double sequential_wall =
        reference.kind == strategy::sequential && !cut_short(reference) ? reference.wall_seconds : 0;
    for (const auto& run : reports)
    {
        table.rows.push_back(row_of(run, sequential_wall));
        table.rows.back().interrupted = cut_short(run);
    }
    auto format = parse_output_format(options.format).value_or(output_format::table);
    out += render_comparison(format, table);
    bool written = write_standard_output("compare", out) && close_standard_output("compare");
    if (written && !options.timeline_file.empty())
        written = write_file("compare", options.timeline_file, render_timeline_svg(std::span<const Report>(reports)));
    if (written && !options.trace_file.empty())
        written = write_file("compare", options.trace_file, render_chrome_trace(std::span<const Report>(reports)));
    if (interrupted)
    {
        std::cerr << "fxrates compare: interrupted"
                  << (cut_short(reports.back()) ? "; " + std::string(to_string(reports.back().kind)) + " was stopped early"
                                                : "")
                  << (not_run.empty() ? "" : "; not run: " + not_run) << '\n';
        return written ? 128 + interrupts.signal() : 1;
    }
    if (!written)
        return 1;
    return failures == 0 ? 0 : 2;
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
    // --cacert and --insecure are for --api or --urls: checked by run_compare (needs() has no "or").
    (void)trust;
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
    auto* urls = compare->add_option("--urls", options.urls_file,
                                     "Time the URL job instead of rates: the URLs of this list (as fetch -i reads it), "
                                     "fetched under each strategy; the bodies are dropped")
                     ->check(not_empty("a file name"));
    auto* templ = compare->add_option("--template", options.url_template,
                                      "The URL job from a URL with {} where each value of --values goes")
                      ->check(not_empty("a URL template"));
    auto* values = compare->add_option("--values", options.values, "Values for --template, one a line")
                       ->check(not_empty("a file name"));
    templ->needs(values);
    values->needs(templ);
    urls->excludes(templ);
    for (auto* url_job : {urls, templ})
        for (const char* rates_only : {"--base", "--symbols", "--repeat", "--date", "--api", "--local", "--latency"})
            url_job->excludes(rates_only);
    return compare;
}

namespace {

// The URL list of `--urls FILE`, or of `--template` and `--values`, read as `fetch` reads them
// (the FILE column of a list is not used: the bodies are dropped). Nullopt, having said why.
std::optional<std::vector<std::string>> read_url_job(const compare_options& options)
{
    const bool from_template = !options.url_template.empty();
    std::vector<fetch::list_item> items;
    bool read = from_template ? read_template_values("compare", options.url_template, options.values,
                                                     max_requests_per_strategy, items)
                              : read_url_list("compare", options.urls_file, "--urls", max_requests_per_strategy, items);
    if (!read)
        return std::nullopt;
    if (items.empty())
    {
        report("compare", std::string(from_template ? "--values" : "--urls") + ": no URLs in " +
                              (from_template ? options.values : options.urls_file));
        return std::nullopt;
    }
    std::vector<std::string> urls;
    urls.reserve(items.size());
    for (auto& item : items)
        urls.push_back(std::move(item.url));
    return urls;
}

// `compare --urls`: the URL job under each strategy, each in a fresh process that counts and
// drops the bodies (their sizes come back, and are compared across strategies).
int run_compare_urls(const compare_options& options, const std::vector<strategy>& kinds)
{
    auto urls = read_url_job(options);
    if (!urls)
        return 1;
    if (!check_request_count("compare", kinds, urls->size(), "give fewer URLs"))
        return 1;
    strategy_params params;
    params.workers = options.threads;
    params.throttle_rate = options.rate;
    params.client.max_connections = options.concurrency;
    params.client.api_url = "https://localhost"; // the rates API is not used
    // The bodies stream through and are dropped: no size limit is needed to bound memory.
    params.client.body_limit = std::numeric_limits<std::size_t>::max();
    apply_time_limit(options.timeout_seconds, params.client);
    params.worker_program = "/proc/self/exe";
    if (!apply_trust_options("compare", options.trust, params.client))
        return 1;
    interrupt_watch interrupts;
    params.stop = interrupts.token();

    std::string not_run;
    auto reports = run_each(kinds, interrupts, not_run,
                            [&](strategy kind) { return run_fetch_strategy_in_process(kind, params, *urls); });
    if (reports.empty())
    {
        std::cerr << "fxrates compare: interrupted before any strategy ran\n";
        return 128 + interrupts.signal();
    }
    const auto& reference = reference_run(reports);
    auto failures = report_failures(reports, reference, interrupts.signal() != 0,
                                    [](const fetch_outcome& got, const fetch_outcome& expected) -> std::string {
                                        if (got.status != expected.status || got.bytes != expected.bytes)
                                            return "another answer (status, size) for " +
                                                   escape_untrusted(got.url, false);
                                        return {};
                                    });
    comparison table;
    table.requests_per_strategy = urls->size();
    table.api = options.url_template.empty() ? "the URLs of " + options.urls_file
                                             : options.url_template + " with the values of " + options.values;
    return present_runs(options, table, {}, reports, reference, interrupts, not_run, failures);
}

} // namespace

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
    std::vector<strategy> kinds;
    for (const auto& name : options.strategies)
        kinds.push_back(*parse_strategy(name));
    if (kinds.empty())
        kinds.assign(all_strategies().begin(), all_strategies().end());
    const bool url_job = !options.urls_file.empty() || !options.url_template.empty();
    if (!url_job && options.api.empty() && (!options.trust.ca_file.empty() || options.trust.insecure))
    {
        report("compare", std::string(options.trust.insecure ? "--insecure" : "--cacert") +
                              " is for --api or --urls (the built-in server is trusted as it is)");
        return 1;
    }
    if (url_job)
        return run_compare_urls(options, kinds);

    auto bases = read_currency_codes(options.bases, "compare", "--base");
    auto symbols = read_currency_codes(options.symbols, "compare", "--symbols");
    if (!bases || !symbols)
        return 1;

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

    std::string not_run;
    auto reports = run_each(kinds, interrupts, not_run,
                            [&](strategy kind) { return run_strategy_in_process(kind, params); });
    if (reports.empty())
    {
        std::cerr << "fxrates compare: interrupted before any strategy ran\n";
        return 128 + interrupts.signal();
    }

    // The matrix once: every strategy fetched the same rates (checked below). Each row comes from
    // the sequential run when it has it, else from any strategy that has it.
    const auto& reference = reference_run(reports);
    std::vector<rates_outcome> first_rows;
    for (std::size_t i = 0; i < bases->size(); ++i)
    {
        const rates_outcome* row =
            i < reference.outcomes.size() && reference.outcomes[i].ok() ? &reference.outcomes[i] : nullptr;
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
        std::string matrix = render_table(first_rows, *symbols, reference.wall_seconds);
        out = matrix.substr(0, matrix.rfind("\ntime elapsed")) + "\n";
    }
    auto failures = report_failures(reports, reference, interrupts.signal() != 0,
                                    [](const rates_outcome& got, const rates_outcome& expected) -> std::string {
                                        if (got.value != expected.value)
                                            return "different rates for " + got.base.str();
                                        return {};
                                    });
    return present_runs(options, table, std::move(out), reports, reference, interrupts, not_run, failures);
}

} // namespace fxrates::cli
