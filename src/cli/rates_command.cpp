#include "cli/rates_command.hpp"

#include "cli/currency_options.hpp"
#include "cli/input_checks.hpp"
#include "cli/interrupt_watch.hpp"
#include "cli/output.hpp"
#include "cli/progress.hpp"

#include <fxrates/client_params.hpp>
#include <fxrates/date.hpp>
#include "cli/present.hpp"
#include <fxrates/server/local_server.hpp>
#include "lab/strategy.hpp"

#include <CLI/CLI.hpp>

#include <fxrates/client.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <functional>
#include <stop_token>

#include <cmath>
#include <iostream>
#include <optional>

namespace fxrates::cli {

namespace {

// True when every base failed the same way before the API could answer (no DNS, no route, no
// server): one line then says it all, instead of one identical line per base.
// No answer came at all: the host could not be resolved or connected, or every connection failed
// before a byte of an answer. A refused certificate or a bad answer means the server was reached.
bool unreachable(const rates_outcome& outcome)
{
    namespace error = boost::asio::error;
    if (outcome.ok() || outcome.server_answered)
        return false;
    const auto& ec = outcome.error;
    bool lookup_failed = ec.category() == error::get_netdb_category() || ec.category() == error::get_addrinfo_category();
    bool connect_timed_out = ec == condition::timeout && (outcome.diag.client_message().starts_with("cannot connect") ||
                                                          outcome.diag.client_message().starts_with("cannot resolve"));
    return lookup_failed || connect_timed_out || ec == condition::connection;
}

bool all_failed_to_connect(const std::vector<rates_outcome>& outcomes)
{
    if (outcomes.empty())
        return false;
    for (const auto& outcome : outcomes)
        if (!unreachable(outcome) || outcome.error != outcomes.front().error)
            return false;
    return true;
}

// The library says this in a certificate's rejection only where trust is the problem (no CA it
// knows vouches for it), not where the certificate itself is wrong (expired, another host's).
constexpr std::string_view untrusted_marker = "trust its CA";

// The library names settings; the command line has flags for them.
std::string flag_hint(const rates_outcome& outcome)
{
    if (outcome.error == condition::tls && outcome.diag.client_message().find(untrusted_marker) != std::string::npos)
        return " (--cacert FILE trusts a CA; --insecure skips verification)";
    if (outcome.error == errc::body_limit)
        return " (--max-body SIZE raises it)";
    if (outcome.error == errc::header_limit)
        return " (--max-header SIZE raises it)";
    return {};
}

// No answer came. Where a connection was made, the server was reached and is to blame (it closed
// or stalled): the network is fine, and --local would not help.
std::string cannot_reach(const std::string& api_url, const rates_outcome& outcome, bool local)
{
    bool connected = outcome.timing.connected != request_timing::time_point{};
    return (connected ? "no answer from " : "cannot reach ") + api_url + ": " +
           (outcome.diag.client_message().empty() ? outcome.error.message() : outcome.diag.client_message()) +
           (local || connected ? "" : ". Without network, try --local (the built-in look-alike server)");
}

// What a run gave: one outcome per base in input order, its wall time, and the signal that
// interrupted it (0 if none).
struct fetched
{
    std::vector<rates_outcome> outcomes;
    double wall_seconds = 0;
    int signal = 0;
};

// The default: the client on one io_context run by this thread, Ctrl-C and SIGTERM through a
// signal_set on the same loop, which cancels the batch (finished bases keep their values).
fetched fetch_on_event_loop(const client_params& params, const std::vector<currency_code>& bases,
                            const rates_query& query, const outcome_observer& observe, progress_display& progress,
                            std::function<void()>& stop_batch)
{
    namespace asio = boost::asio;
    asio::io_context context(1);
    auto one_thread = params;
    one_thread.thread_safe = false; // this thread alone runs the loop and uses the client
    client api(context, one_thread);
    asio::signal_set signals(context, SIGINT, SIGTERM);
    asio::cancellation_signal cancel;
    fetched run;
    auto started = std::chrono::steady_clock::now();
    stop_batch = [&] { cancel.emit(asio::cancellation_type::terminal); }; // called on the loop
    signals.async_wait([&](const boost::system::error_code& ec, int number) {
        if (ec)
            return;
        run.signal = number;
        cancel.emit(asio::cancellation_type::terminal);
    });
    progress.start(context.get_executor());
    api.async_get_rates_batch(bases, query, observe,
                              asio::bind_cancellation_slot(cancel.slot(), [&](error_code, std::vector<rates_outcome> outcomes) {
                                  run.outcomes = std::move(outcomes);
                                  signals.cancel();
                                  progress.finish();
                              }));
    context.run();
    run.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return run;
}

// Another way, from the lab: its threads block, so Ctrl-C is watched on a loop of its own, which
// also draws the progress.
fetched fetch_with_strategy(strategy kind, const client_params& params, std::size_t workers,
                            const std::vector<currency_code>& bases, const rates_query& query,
                            const outcome_observer& observe, progress_display& progress,
                            std::function<void()>& stop_batch)
{
    interrupt_watch interrupts;
    strategy_params run;
    run.client = params;
    run.bases = bases;
    run.query = query;
    run.workers = workers;
    if (params.rate > 0) // the throttled variants take theirs from --rate too
    {
        run.throttle_rate = params.rate;
        run.throttle_burst = params.burst;
    }
    // Either stop ends the run: Ctrl-C, or output that can no longer be written.
    std::stop_source stop;
    std::stop_callback on_interrupt(interrupts.token(), [&] { stop.request_stop(); });
    stop_batch = [&] { stop.request_stop(); };
    run.stop = stop.get_token();
    run.on_outcome = observe;
    progress.start(interrupts.executor());
    auto report = run_strategy(kind, run);
    progress.finish();
    return {std::move(report.outcomes), report.wall_seconds, interrupts.signal()};
}

} // namespace

CLI::App* add_rates_command(CLI::App& app, rates_options& options)
{
    auto* rates = app.add_subcommand("rates", "Fetch the rates of many base currencies at once and print the matrix");
    // No delimiter for CLI11: it would skip empty elements, and `USD,,EUR` is a typo to report.
    rates->add_option("--base", options.bases, "Base currencies, comma-separated")->capture_default_str();
    rates->add_option("--symbols", options.symbols, "Currencies to show for each base, comma-separated")
        ->capture_default_str();
    add_date_option(*rates, options.date);
    auto* api = rates->add_option("--api", options.api, "Base URL of the rates API")->capture_default_str();
    auto* local = rates->add_flag("--local", options.local,
                                  "Start the built-in look-alike server in-process and use it (no network needed)")
                      ->excludes(api);
    add_trust_options(*rates, options.trust, local,
                      "Trust the certificate authorities in this PEM file instead of the system's (as curl does)",
                      "Do not verify the server's certificate (only for servers you control)");
    rates->add_option("--timeout", options.timeout_seconds, "Seconds the whole batch may take")
        ->check(finite_number({.min = 0.001, .max = 3600}))
        ->capture_default_str();
    rates->add_option("--concurrency", options.concurrency, "Most connections open at once")
        ->check(CLI::Range(std::size_t{1}, std::size_t{10000}))
        ->each([&options](const std::string&) { options.concurrency_given = true; })
        ->capture_default_str();
    rates->add_option("--max-handshakes", options.max_handshakes,
                      "Most TLS handshakes under way at once (each holds ~40 KiB until it ends)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{10000}))
        ->capture_default_str();
    rates->add_option("--format", options.format,
                      "Output: table (the book's), json, csv, or ndjson (one JSON line per base as it ends)")
        ->check(CLI::IsMember({"table", "json", "csv", "ndjson"}))
        ->capture_default_str();
    rates->add_flag("-q,--quiet", options.quiet, "No progress line on a terminal (failures are still reported)");
    std::vector<std::string> strategy_names;
    for (auto kind : all_strategies())
        strategy_names.emplace_back(to_string(kind));
    rates->add_option("--strategy", options.strategy, "How to make the requests")
        ->check(CLI::IsMember(strategy_names))
        ->capture_default_str();
    auto* rate = rates->add_option("--rate", options.rate,
                                   "Requests per second at most (token bucket, starts empty), whatever the "
                                   "strategy")
                     ->check(finite_number(
                         {.min = 0, .max = 1e6, .min_excluded = true, .what = "a positive number of requests per second"}));
    rates->add_option("--burst", options.burst, "Requests at once within --rate (default: one second's worth)")
        ->check(finite_number({.min = 1, .max = 1e6}))
        ->needs(rate);
    rates->add_option("--retries", options.retries,
                      "Retries of a request after a connection error, timeout, 502, 503 or 504 (a 429 "
                      "waits for its Retry-After and is no retry); a batch retries at most 20% of its "
                      "requests, never fewer than N retries in all")
        ->check(CLI::Range(0u, 10u))
        ->capture_default_str();
    rates->add_option("--max-redirects", options.max_redirects, "Redirects followed per request at most (0: none)")
        ->check(CLI::Range(0u, 50u))
        ->capture_default_str();
    rates->add_flag("--no-compression", options.no_compression,
                    "Do not ask for compressed answers (a compressed answer is decoded all the same)");
    // Sizes as curl's --max-filesize takes them: 1048576, 1024K, 1M (K, M and G are 1024s).
    rates->add_option("--max-body", options.max_body,
                      "Largest answer body taken, after decompression (e.g. 4M); larger fails that base")
        ->transform(CLI::AsSizeValue(false))
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 32))
        ->capture_default_str();
    rates->add_option("--max-header", options.max_header,
                      "Largest answer header taken, chunk-size lines and trailers included (e.g. 256K)")
        ->transform(CLI::AsSizeValue(false))
        ->check(CLI::Range(std::uint64_t{1024}, std::uint64_t{1} << 26))
        ->capture_default_str();
    rates->add_option("--threads", options.threads, "Workers of the pools (threads, processes, offload)")
        ->each([&options](const std::string&) { options.threads_given = true; })
        ->check(CLI::Range(std::size_t{1}, std::size_t{1024}))
        ->capture_default_str();
    return rates;
}

int run_rates(const rates_options& options)
{
    if (!check_standard_output("rates"))
        return 1;
    auto bases = read_currency_codes(options.bases, "rates", "--base");
    auto symbols = read_currency_codes(options.symbols, "rates", "--symbols");
    if (!bases || !symbols)
        return 1;
    rates_query query;
    query.symbols = *symbols;
    if (!read_date("rates", options.date, query))
        return 1;
    auto format = parse_output_format(options.format).value_or(output_format::table);
    auto kind = parse_strategy(options.strategy).value_or(strategy::async);
    if (options.concurrency_given && !check_concurrency_applies("rates", kind, "--threads N"))
        return 1;
    if (options.threads_given && !check_threads_apply("rates", kind))
        return 1;
    if (!check_request_count("rates", std::span(&kind, 1), bases->size(), "give fewer bases"))
        return 1;

    client_params params;
    params.api_url = options.api;
    apply_time_limit(options.timeout_seconds, params);
    params.max_connections = options.concurrency;
    params.max_handshakes = options.max_handshakes;
    params.retry.max_attempts = options.retries + 1;
    params.max_redirects = options.max_redirects;
    params.accept_compression = !options.no_compression;
    params.body_limit = static_cast<std::size_t>(options.max_body);
    params.header_limit = static_cast<std::size_t>(options.max_header);
    params.rate = options.rate;
    params.burst = options.burst;
    if (!options.local)
    {
        // Refuse a bad --api or CA file before any strategy starts threads or processes with it.
        if (auto why = describe_bad_api_url(params.api_url); !why.empty())
        {
            report("rates", "--api: bad API URL: " + why);
            return 1;
        }
        if (!apply_trust_options("rates", options.trust, params))
            return 1;
    }

    std::optional<local_server> server;
    if (options.local)
    {
        server.emplace();
        params.api_url = server->base_url();
        params.ca_pem = server->certificate_pem(); // verification stays on: we trust exactly this server
        params.use_system_trust = false;
    }

    // Failures as they happen, on a terminal; a failure the whole batch shares (the host cannot
    // be reached) is said once.
    bool unreachable_said = false;
    auto describe_now = [&](const rates_outcome& outcome) -> std::string {
        if (!unreachable(outcome))
            return describe_failure(outcome) + flag_hint(outcome);
        if (unreachable_said)
            return {};
        unreachable_said = true;
        return cannot_reach(params.api_url, outcome, options.local);
    };
    progress_display progress("rates", bases->size(), standard_error_is_terminal() && !options.quiet);

    // --format ndjson writes each base as it ends; a write that fails stops the batch.
    bool stream_failed = false;
    std::function<void()> stop_batch;
    auto observe = [&](std::size_t index, const rates_outcome& outcome) {
        progress.record(outcome.ok(), [&] { return describe_now(outcome); });
        if (format == output_format::ndjson && !stream_failed &&
            !write_standard_output("rates", ndjson_line(index, outcome, *symbols)))
        {
            stream_failed = true;
            if (stop_batch)
                stop_batch();
        }
    };

    // The default way is a plain Asio program: the client and a signal_set on one event loop.
    // The lab's strategies are used only when --strategy asks for another way.
    fetched run = kind == strategy::async ? fetch_on_event_loop(params, *bases, query, observe, progress, stop_batch)
                                          : fetch_with_strategy(kind, params, options.threads, *bases, query, observe,
                                                                progress, stop_batch);
    progress.finish();
    if (stream_failed)
        return 1;
    auto& outcomes = run.outcomes;
    // What progress already showed as it happened is not repeated.
    bool failures_shown = progress.enabled();
    if (run.signal != 0)
    {
        // A base that failed before the interruption keeps its own error; only those the stop cut
        // short are unfinished. The table shows the finished rows; JSON and CSV hold every base, the
        // failed and unfinished ones with their errors, as a script reading them expects.
        std::vector<rates_outcome> finished;
        std::string unfinished;
        for (const auto& outcome : outcomes)
        {
            if (outcome.ok())
                finished.push_back(outcome);
            else if (outcome.error == condition::cancelled)
                unfinished += (unfinished.empty() ? "" : ", ") + outcome.base.str();
            else if (!failures_shown)
                report("rates", describe_failure(outcome) + flag_hint(outcome));
        }
        bool written = true;
        if (format == output_format::table && !finished.empty())
            written = write_standard_output("rates", render(format, finished, *symbols, run.wall_seconds));
        else if (format == output_format::json || format == output_format::csv)
            written = write_standard_output("rates", render(format, outcomes, *symbols, run.wall_seconds));
        report("rates", "interrupted" + (unfinished.empty() ? "" : "; not finished: " + unfinished));
        return written && close_standard_output("rates") ? 128 + run.signal : 1;
    }

    std::size_t failed = 0;
    for (const auto& outcome : outcomes)
        failed += outcome.ok() ? 0 : 1;
    // A table with no rows says nothing; JSON and CSV always print, for scripts; NDJSON is written.
    if (format != output_format::ndjson && (format != output_format::table || failed < outcomes.size()))
    {
        if (!write_standard_output("rates", render(format, outcomes, *symbols, run.wall_seconds)))
            return 1;
    }
    if (!close_standard_output("rates"))
        return 1;
    if (!failures_shown)
    {
        if (all_failed_to_connect(outcomes))
            report("rates", cannot_reach(params.api_url, outcomes.front(), options.local));
        else
            for (const auto& outcome : outcomes)
                if (!outcome.ok())
                    report("rates", describe_failure(outcome) + flag_hint(outcome));
    }
    unsigned rate_limited = 0;
    for (const auto& outcome : outcomes)
        rate_limited += outcome.rate_limited;
    if (rate_limited > 0)
        report("rates", "the server's rate limit answered 429 " + std::to_string(rate_limited) +
                            (rate_limited == 1 ? " time" : " times") +
                            "; those requests waited as it asked and went back in the queue, and fxrates paced "
                            "that server to the limit it announced or showed");
    if (failed == 0)
        return 0;
    return failed == outcomes.size() ? 1 : 2;
}

} // namespace fxrates::cli
