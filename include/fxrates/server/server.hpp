#pragma once

#include <fxrates/server/server_params.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace fxrates {

/// The look-alike of api.vatcomply.com: `GET /rates` and `GET /currencies` over HTTPS with
/// HTTP/1.1 keep-alive, on the ECB's rate history, following api-contract.md. Other paths serve
/// static files (`server_params::root`) or the built-in demo site and `/bytes/N`; optionally over
/// plain HTTP too (`server_params::plain_port`).
///
/// All its work runs on the executor it is given, which must be single-threaded (an
/// `io_context` run by one thread, or a strand): every connection is a coroutine on it.
///
/// Thread safety: `start` and `stop` are called from the executor's thread, or before it runs.
/// The other members may be called from any thread after `start` returns.
class server
{
public:
    /// Loads the history and the TLS identity (making one if none is given). Throws
    /// `ecb_history_error` or `std::runtime_error` naming the file or the step that failed.
    server(boost::asio::any_io_executor executor, server_params params);
    ~server();

    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// Binds, listens and starts accepting. Throws `boost::system::system_error` if the address
    /// cannot be bound (e.g. the port is taken).
    void start();

    /// Stops accepting and closes every connection; pending work ends with `operation_aborted`,
    /// so the executor runs dry once in-flight handlers finish.
    void stop();

    /// The port listened on (the one picked, if `port` was 0). Valid after `start`.
    std::uint16_t port() const noexcept;

    /// The port listened on without TLS (the one picked, if `plain_port` was 0); nothing unless
    /// `server_params::plain_port` was set. Valid after `start`.
    std::optional<std::uint16_t> plain_port() const noexcept;

    /// The server's certificate, PEM: trusting it is how clients verify the server.
    const std::string& certificate_pem() const noexcept;

    /// Requests answered so far (counted when the answer is ready to send), all statuses.
    std::uint64_t requests_served() const noexcept;

    /// Client connections open now (accepted and not yet closed).
    std::size_t open_connections() const noexcept;

    boost::asio::any_io_executor get_executor() const noexcept;

private:
    class impl;
    std::shared_ptr<impl> impl_;
};

} // namespace fxrates
