#pragma once

#include <fxrates/server/ecb_history.hpp>
#include <fxrates/server/fault.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace fxrates {

/// Settings of the look-alike rates server. Every default is what `fxrates serve` uses.
struct server_params
{
    /// Address to listen on. Loopback by default: the server is for tests and demos.
    std::string address = "127.0.0.1";

    /// TCP port; 0 picks a free one (read it back with `server::port()`).
    std::uint16_t port = 0;

    /// PEM files with the certificate chain and its private key. When both are empty a fresh
    /// self-signed ECDSA P-256 certificate for localhost, 127.0.0.1 and ::1 is made at start-up.
    std::string certificate_file;
    std::string private_key_file;

    /// The same as PEM text, for an identity made in memory (tests); used when the files are empty.
    std::string certificate_pem;
    std::string private_key_pem;

    /// The rates history to serve; null means the ECB history shipped inside fxrates.
    std::shared_ptr<const ecb_history> history;

    /// The day "today" is, for requests without `date`; empty means the current UTC date.
    std::optional<std::chrono::sys_days> today;

    /// Added before every response, without holding up other connections.
    std::chrono::steady_clock::duration latency{};

    /// Requests per second allowed per client IP address (GCRA, as the real API); 0 turns the
    /// limit off, otherwise 0.001 to 1e6. Over the limit the answer is 429 with Retry-After.
    double rate_limit = 0;

    /// Requests a client may make at once within the rate limit; 0 means `ceil(rate_limit)`.
    unsigned burst = 0;

    /// Longest wait for a client's TLS handshake.
    std::chrono::steady_clock::duration handshake_timeout = std::chrono::seconds(10);

    /// Longest wait for a complete request, including an idle keep-alive connection's next one.
    std::chrono::steady_clock::duration request_timeout = std::chrono::seconds(30);

    /// Longest time to send a response to a client that does not read it.
    std::chrono::steady_clock::duration write_timeout = std::chrono::seconds(30);

    /// Largest request header block accepted; larger ones get 431 and the connection is closed.
    std::size_t header_limit = 16 * 1024;

    /// Connections served at once; more are accepted and closed at once.
    std::size_t max_connections = 10000;

    /// Compress answers as the real API's front end does (`fxrates serve --gzip`): when a request's
    /// `Accept-Encoding` accepts gzip (`gzip`, `gzip;q=0.5`, `*`; not `gzip;q=0`), its answer is
    /// sent with `Content-Encoding: gzip`, and every answer carries `Vary: Accept-Encoding`.
    bool gzip = false;

    /// Faults to inject at random (`fxrates serve --fault KIND:P --seed N`); empty by default.
    fault_plan faults;

    /// For tests: called with each request's target; a fault it returns is injected for that
    /// request (before `faults` is consulted). Runs on the server's thread.
    std::function<std::optional<fault>(std::string_view target)> inject_fault;

    /// Called with a line for each request as it is answered, e.g. `GET /rates?base=USD -> 200` or
    /// `... -> fault stall` (`fxrates serve --log-requests`). Runs on the server's thread.
    std::function<void(std::string_view line)> log_request;

    /// For tests: called with each request's target; a status it returns is answered instead of
    /// the API's (with a JSON `detail`), e.g. a 500 for one base. Runs on the server's thread.
    std::function<std::optional<unsigned>(std::string_view target)> inject_status;
};

} // namespace fxrates
