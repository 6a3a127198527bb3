#include "cli/serve_command.hpp"

#include <fxrates/server/server.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/system/system_error.hpp>

#include <CLI/CLI.hpp>

#include <sys/resource.h>

#include <cmath>
#include <fstream>
#include <iostream>

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

} // namespace

CLI::App* add_serve_command(CLI::App& app, serve_options& options)
{
    auto* serve = app.add_subcommand("serve", "Run the look-alike rates API server (HTTPS) until Ctrl-C");
    auto& params = options.params;
    serve->add_option("--address", params.address, "Address to listen on")->capture_default_str();
    serve->add_option("--port", params.port, "TCP port; 0 picks a free one and prints it")
        ->capture_default_str();
    serve->add_option("--cert", params.certificate_file, "PEM certificate chain (default: a fresh self-signed one)")
        ->check(CLI::ExistingFile);
    serve->add_option("--key", params.private_key_file, "PEM private key of --cert")->check(CLI::ExistingFile);
    serve->add_option("--cert-out", options.certificate_out,
                      "Write the server's certificate here, for clients to trust (curl --cacert FILE)");
    serve->add_option("--latency", options.latency_ms, "Milliseconds added before each response")
        ->check(CLI::Range(0.0, 600000.0))
        ->capture_default_str();
    serve->add_option("--rate-limit", params.rate_limit, "Requests per second per client IP; 0 is no limit")
        ->check(CLI::Range(0.0, 1e6))
        ->capture_default_str();
    serve->add_option("--burst", params.burst, "Requests at once within the rate limit (default: the rate)")
        ->check(CLI::Range(1u, 1000000u));
    std::string kinds;
    for (auto kind : all_faults())
        kinds += (kinds.empty() ? "" : ", ") + std::string(to_string(kind));
    serve->add_option("--fault", options.faults,
                      "Misbehave on purpose: KIND:P injects KIND in a share P of the answers (repeatable). KIND: " +
                          kinds);
    serve->add_option("--seed", options.seed, "Seed of the fault draws, so that a run can be repeated")
        ->capture_default_str();
    serve->add_flag("--gzip", params.gzip,
                    "Compress answers (Content-Encoding: gzip) when the request's Accept-Encoding accepts "
                    "gzip, as the real API's front end does");
    serve->add_flag("--log-requests", options.log_requests,
                    "Print a line per request as it is answered: method, target, status or fault");
    serve->add_option("--data", options.history_file,
                      "An ECB eurofxref-hist.csv to serve instead of the one built in")
        ->check(CLI::ExistingFile);
    return serve;
}

int run_serve(serve_options& options)
{
    auto& params = options.params;
    params.latency = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double, std::milli>(options.latency_ms));
    if (params.certificate_file.empty() != params.private_key_file.empty())
    {
        std::cerr << "fxrates serve: give --cert and --key together, or neither for a self-signed certificate\n";
        return 1;
    }
    try
    {
        for (const auto& spec : options.faults)
            params.faults.add(spec);
    }
    catch (const std::invalid_argument& e)
    {
        std::cerr << "fxrates serve: " << e.what() << '\n';
        return 1;
    }
    params.faults.seed(options.seed);
    if (options.log_requests)
        params.log_request = [](std::string_view line) {
            // Flushed at once: a script may be waiting for the line.
            std::cout << line << std::endl;
        };
    if (!options.history_file.empty())
        params.history = std::make_shared<const ecb_history>(ecb_history::load_file(options.history_file));

    raise_descriptor_limit();
    asio::io_context context(1);
    server rates_server(context.get_executor(), params);
    try
    {
        rates_server.start();
    }
    catch (const boost::system::system_error& e)
    {
        std::cerr << "fxrates serve: cannot listen on " << params.address << ':' << params.port << ": "
                  << e.code().message() << "; choose another --port (0 picks a free one) or --address\n";
        return 1;
    }

    if (!options.certificate_out.empty())
    {
        std::ofstream out(options.certificate_out, std::ios::binary | std::ios::trunc);
        out << rates_server.certificate_pem();
        if (!out.flush())
        {
            std::cerr << "fxrates serve: cannot write the certificate to " << options.certificate_out << '\n';
            return 1;
        }
    }

    asio::signal_set signals(context, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (!ec)
            rates_server.stop();
    });

    std::cout << "fxrates: serving https://" << params.address << ':' << rates_server.port();
    if (!options.faults.empty())
        std::cout << " with faults";
    if (!options.certificate_out.empty())
        std::cout << " (certificate in " << options.certificate_out << ')';
    std::cout << "; Ctrl-C stops" << std::endl;

    context.run();
    std::cout << "fxrates: stopped; requests answered: " << rates_server.requests_served() << std::endl;
    return 0;
}

} // namespace fxrates::cli
