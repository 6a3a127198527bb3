#include "cli/serve_command.hpp"

#include "cli/input_checks.hpp"
#include "cli/output.hpp"

#include <fxrates/utf8.hpp>

#include <fxrates/server/server.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/system/system_error.hpp>

#include <CLI/CLI.hpp>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>

namespace fxrates::cli {

namespace asio = boost::asio;

namespace {

// Each connection costs a descriptor; the usual soft limit of 1024 would cap concurrent clients.
void raise_descriptor_limit()
{
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max)
    {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

// A finite number within [low, high] (the CLI's shared check_number, which NaN cannot pass),
// refused naming serve's own wording of the range. `zero_too` also accepts 0 below `low`.
CLI::Validator finite_range(double low, double high, std::string range, bool zero_too = false)
{
    return CLI::Validator(
        [=](std::string& text) -> std::string {
            bool ok = check_number(text, {.min = low, .max = high}).empty() ||
                      (zero_too && check_number(text, {.min = 0, .max = 0}).empty());
            return ok ? std::string() : "'" + text + "' is not " + range;
        },
        range);
}

// A whole number in [0, high] written with digits only ('' and -1 are refused, not wrapped).
CLI::Validator whole_number(std::uint64_t high, std::string range)
{
    return CLI::Validator(
        [=](std::string& text) -> std::string {
            std::uint64_t value = 0;
            auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
            bool ok = !text.empty() && ec == std::errc() && end == text.data() + text.size() && value <= high;
            return ok ? std::string() : "'" + text + "' is not " + range;
        },
        range);
}

// Writes the text to stdout and flushes it; false, with errno set, if it did not get through.
bool print_line(const std::string& line)
{
    errno = 0;
    std::cout << line << std::endl;
    return static_cast<bool>(std::cout);
}

std::string errno_text() { return errno ? std::strerror(errno) : "the output failed"; }

} // namespace

CLI::App* add_serve_command(CLI::App& app, serve_options& options)
{
    auto* serve = app.add_subcommand(
        "serve",
        "Run the look-alike rates API server (HTTPS), with static files or a demo site, until Ctrl-C");
    auto& params = options.params;
    serve->add_option("--address", params.address, "Address to listen on")->capture_default_str();
    serve->add_option("--port", params.port, "TCP port; 0 picks a free one and prints it")
        ->check(whole_number(65535, "a port number, 0-65535 (0 picks a free one)"))
        ->capture_default_str();
    // Regular files only, as --cacert: a FIFO or a device would block the start for ever.
    serve->add_option("--cert", params.certificate_file, "PEM certificate chain (default: a fresh self-signed one)")
        ->check(regular_file());
    serve->add_option("--key", params.private_key_file, "PEM private key of --cert")->check(regular_file());
    serve->add_option("--cert-out", options.certificate_out,
                      "Write the server's certificate here, for clients to trust (curl --cacert FILE)")
        ->check(not_empty("a file name"));
    serve->add_option("--latency", options.latency_ms, "Milliseconds added before each response")
        ->check(finite_range(0, 600000, "a number of milliseconds from 0 to 600000"))
        ->capture_default_str();
    auto* rate_limit = serve->add_option("--rate-limit", params.rate_limit, "Requests per second per client IP; 0 is no limit")
        ->check(finite_range(0.001, 1e6, "0 (no limit) or a number of requests per second from 0.001 to 1000000",
                             true))
        ->capture_default_str();
    serve->add_option("--burst", params.burst, "Requests at once within the rate limit (default: the rate)")
        ->check(CLI::Range(1u, 1000000u))
        ->needs(rate_limit);
    std::string kinds;
    for (auto kind : all_faults())
        kinds += (kinds.empty() ? "" : ", ") + std::string(to_string(kind));
    serve->add_option("--fault", options.faults,
                      "Misbehave on purpose: KIND:P injects KIND in a share P of the answers (repeatable). KIND: " +
                          kinds);
    serve->add_option("--seed", options.seed, "Seed of the fault draws, so that a run can be repeated")
        ->check(whole_number(std::numeric_limits<std::uint64_t>::max(),
                             "a whole number from 0 to 18446744073709551615"))
        ->capture_default_str();
    serve->add_flag("--gzip", params.gzip,
                    "Compress answers (Content-Encoding: gzip) when the request's Accept-Encoding accepts "
                    "gzip, as the real API's front end does");
    serve->add_flag("--log-requests", options.log_requests,
                    "Print a line per request as it is answered: method, target, Range if any, status or fault");
    serve->add_flag("--no-ranges{false}", params.ranges,
                    "Play a server without range support: ignore Range and If-Range, answer every GET with "
                    "the whole 200 and no Accept-Ranges");
    serve->add_option("--data", options.history_file,
                      "An ECB eurofxref-hist.csv to serve instead of the one built in")
        ->check(regular_file());
    serve->add_option("--root", params.root,
                      "Serve the files under this directory at every path but /rates and /currencies (GET, "
                      "HEAD, ETag, 304, Range); without it: the demo site /site/ and /bytes/N")
        ->check(CLI::ExistingDirectory);
    serve
        ->add_option("--plain-port", params.plain_port,
                     "Also listen on this TCP port without TLS (plain HTTP), same routes and limits; 0 picks "
                     "a free one and prints it")
        ->check(whole_number(65535, "a port number, 0-65535 (0 picks a free one)"));
    return serve;
}

namespace {

constexpr std::string_view command = "serve";

int serve_until_stopped(serve_options& options)
{
    auto& params = options.params;
    params.latency = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double, std::milli>(options.latency_ms));
    if (params.certificate_file.empty() != params.private_key_file.empty())
    {
        report(command, "give --cert and --key together, or neither for a self-signed certificate");
        return 1;
    }
    // --rate-limit 0 is no limit, so there is nothing for a burst to be part of.
    if (params.burst != 0 && params.rate_limit == 0)
    {
        report(command, "--burst requires --rate-limit above 0 (0 is no limit)");
        return 1;
    }
    try
    {
        for (const auto& spec : options.faults)
            params.faults.add(spec);
    }
    catch (const std::invalid_argument& e)
    {
        report(command, e.what());
        return 1;
    }
    params.faults.seed(options.seed);
    boost::system::error_code address_error;
    auto address = asio::ip::make_address(params.address, address_error);
    if (address_error)
    {
        report(command, "--address '" + params.address +
                            "' is not an IP address; give one such as 127.0.0.1, 0.0.0.0 or ::1 (host names are "
                            "not looked up)");
        return 1;
    }
    // A closed stdout's descriptor would be taken by the first socket opened, and the banner and
    // the request log would go to it (or to a client): refuse to start instead.
    if (fcntl(STDOUT_FILENO, F_GETFD) == -1)
    {
        report(command, "cannot write to standard output: " + std::string(std::strerror(errno)) +
                            "; the line with the port must reach its reader");
        return 1;
    }
    // Set below, once the server and the signal wait exist: a log line that cannot be written
    // stops both, so that the io_context runs out of work and the process exits.
    std::function<void()> stop_for_output;
    int exit_code = 0;
    if (options.log_requests)
        params.log_request = [&](std::string_view line) {
            // Flushed at once: a script may be waiting for the line.
            if (!print_line(std::string(line)) && exit_code == 0)
            {
                report(command, "cannot write the request log to standard output: " + errno_text() + "; stopping");
                exit_code = 1;
                stop_for_output();
            }
        };
    if (!options.history_file.empty())
        params.history = std::make_shared<const ecb_history>(ecb_history::load_file(options.history_file));

    raise_descriptor_limit();
    asio::io_context context(1);
    server rates_server(context.get_executor(), params);
    asio::signal_set signals(context, SIGINT, SIGTERM);
    stop_for_output = [&] {
        rates_server.stop();
        boost::system::error_code ignored;
        signals.cancel(ignored);
    };
    try
    {
        rates_server.start();
    }
    catch (const boost::system::system_error& e)
    {
        // The TLS port is listened on first: if it was, the plain one failed.
        bool plain_failed = rates_server.port() != 0;
        report(command, "cannot listen on " + params.address + ':' +
                            std::to_string(plain_failed ? *params.plain_port : params.port) + ": " +
                            e.code().message() + "; choose another " +
                            (plain_failed ? "--plain-port" : "--port") +
                            " (0 picks a free one) or --address");
        return 1;
    }

    if (!options.certificate_out.empty())
    {
        errno = 0;
        std::ofstream out(options.certificate_out, std::ios::binary | std::ios::trunc);
        out << rates_server.certificate_pem();
        out.close();
        if (!out)
        {
            report(command, "cannot write the certificate to " + options.certificate_out + ": " + errno_text());
            return 1;
        }
    }

    signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (!ec)
            rates_server.stop();
    });

    // An IPv6 address goes in brackets in a URL: https://[::1]:8443.
    std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
    std::string banner = "fxrates serve: serving https://" + host + ':' + std::to_string(rates_server.port());
    if (!options.faults.empty())
        banner += " with faults";
    if (!options.certificate_out.empty())
        banner += " (certificate in " + escape_untrusted(options.certificate_out, false) + ')';
    // After the TLS part, which scripts read up to the first ';'.
    if (auto plain_port = rates_server.plain_port())
        banner += "; plain http://" + host + ':' + std::to_string(*plain_port);
    if (!print_line(banner + "; Ctrl-C stops"))
    {
        report(command, "cannot write the line with the port to standard output: " + errno_text() + "; stopping");
        return 1;
    }

    context.run();
    if (exit_code != 0)
        return exit_code;
    if (!print_line("fxrates serve: stopped; requests answered: " + std::to_string(rates_server.requests_served())))
    {
        report(command, "cannot write to standard output: " + errno_text());
        return 1;
    }
    return 0;
}

} // namespace

int run_serve(serve_options& options)
{
    // Errors thrown while starting (a --data file, a certificate or key that cannot be used) are
    // reported here, with this command's prefix and the user's text escaped.
    try
    {
        return serve_until_stopped(options);
    }
    catch (const std::exception& e)
    {
        report(command, e.what());
        return 1;
    }
}

} // namespace fxrates::cli
