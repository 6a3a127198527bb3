#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace fxrates {

/// Settings of a `client`. Every default is safe for the real API: verification on, every phase
/// bounded in time, answers bounded in size.
struct client_params
{
    /// The API's base URL, `https://host[:port][/path]`; requests go to `<path>/rates` and
    /// `<path>/currencies`. Only https is accepted.
    std::string api_url = "https://api.vatcomply.com";

    /// Trust the operating system's certificate store. Loading it costs about 20 ms of CPU; a client
    /// that names its own CA (`ca_file`, `ca_pem`) may turn it off, as `curl --cacert` does.
    bool use_system_trust = true;

    /// A PEM file of certificate authorities to trust, besides the system's if `use_system_trust`.
    std::string ca_file;

    /// PEM text of certificate authorities to trust, e.g. an in-process server's certificate.
    std::string ca_pem;

    /// Accept any certificate and any host name. Off by default; only for servers you control.
    bool insecure = false;

    /// Longest time to resolve the host and open a TCP connection.
    std::chrono::steady_clock::duration connect_timeout = std::chrono::seconds(10);

    /// Longest TLS handshake.
    std::chrono::steady_clock::duration handshake_timeout = std::chrono::seconds(10);

    /// Longest time one request may take in all: waiting for a connection, connecting, sending
    /// and receiving the whole answer.
    std::chrono::steady_clock::duration request_timeout = std::chrono::seconds(30);

    /// Longest time a whole batch (`async_get_rates_batch`) may take; bases not done by then
    /// complete with `errc::batch_deadline`.
    std::chrono::steady_clock::duration batch_timeout = std::chrono::seconds(60);

    /// Idle keep-alive connections older than this are not reused.
    std::chrono::steady_clock::duration idle_timeout = std::chrono::seconds(30);

    /// Most connections open to the API at once; further requests wait for one, in order.
    std::size_t max_connections = 100;

    /// Largest answer body accepted; a larger one fails with `boost::beast::http::error::body_limit`.
    std::size_t body_limit = 1024 * 1024;

    /// The User-Agent header.
    std::string user_agent = "fxrates/0.1";
};

} // namespace fxrates
