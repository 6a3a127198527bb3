#pragma once

#include <fxrates/server/server_params.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace fxrates {

/// A look-alike rates server on its own thread and `io_context`, for `--local`, tests and
/// benchmarks: construct it and talk to `base_url()`, trusting `certificate_pem()`.
///
/// The constructor returns once the server listens; the destructor stops it and joins the thread.
class local_server
{
public:
    /// Starts the server; throws as `server::server` and `server::start` do.
    explicit local_server(server_params params = {});
    ~local_server();

    local_server(const local_server&) = delete;
    local_server& operator=(const local_server&) = delete;

    std::uint16_t port() const noexcept;

    /// The plain-HTTP port, if `server_params::plain_port` was set (see `server::plain_port`).
    std::optional<std::uint16_t> plain_port() const noexcept;

    /// `https://127.0.0.1:PORT` (the certificate also names localhost and ::1).
    std::string base_url() const;

    /// `http://127.0.0.1:PLAIN_PORT`; empty without a plain port.
    std::string plain_base_url() const;

    const std::string& certificate_pem() const noexcept;

    std::uint64_t requests_served() const noexcept;

    /// Client connections open now (accepted and not yet closed).
    std::size_t open_connections() const noexcept;

    /// Stops the server and joins its thread; the destructor does this too.
    void stop();

private:
    class impl;
    std::unique_ptr<impl> impl_;
};

} // namespace fxrates
