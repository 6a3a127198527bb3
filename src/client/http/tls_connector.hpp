#pragma once

// Opens connections: resolve the host (one shared, abandonable lookup per origin), connect over
// TCP, then TLS with SNI, certificate and host name verification, ALPN offering `http/1.1`, and
// session resumption (one session cache per origin: a session is only offered to the origin that
// issued it). An http:// origin gets a plain TCP connection, whose handshake is a no-op. Knows
// nothing of pools, requests or answers.

#include <fxrates/client_params.hpp>
#include <fxrates/diagnostics.hpp>
#include <fxrates/error.hpp>

#include "client/deadline.hpp"
#include "client/http/origin.hpp"
#include "client/http/client_stream.hpp"
#include "client/http/transport.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <memory>
#include <unordered_map>

namespace fxrates::detail {

/// One client connection: the stream (TLS or plain) and what was read from it but not yet parsed.
struct connection
{
    connection(const boost::asio::any_io_executor& executor, SSL_CTX* tls) : stream(executor, tls) {}

    client_stream stream;
    boost::beast::flat_buffer buffer;
};

/// Where a connection waits for leave to start its TLS handshake (the pool's handshake admission),
/// so that the connector needs to know nothing of the pool.
class handshake_gate
{
public:
    virtual ~handshake_gate() = default;
    /// Waits for a handshake slot until `limit`; an error (timeout, cancelled, closed) if none came.
    virtual boost::asio::awaitable<error_code> acquire(const named_deadline& limit, diagnostics& diag) = 0;
    /// The handshake that held a slot ended.
    virtual void release() noexcept = 0;
};

class tls_connector
{
public:
    /// Throws `boost::system::system_error` if a CA file cannot be loaded, and
    /// `std::invalid_argument` for settings that cannot work.
    tls_connector(boost::asio::any_io_executor executor, const client_params& params);
    ~tls_connector();
    tls_connector(const tls_connector&) = delete;
    tls_connector& operator=(const tls_connector&) = delete;

    /// A new, unconnected connection to `where`: TLS for https, plain TCP for http.
    std::unique_ptr<connection> make_connection(const origin& where);

    /// Resolves `where` (sharing a lookup under way) and connects over TCP within `limit`.
    boost::asio::awaitable<error_code> connect(connection& conn, const origin& where, const named_deadline& limit,
                                               diagnostics& diag, transport_timing& timing);

    /// The TLS handshake (nothing for a plain connection), after waiting for a slot from `admission`; `whole` bounds the wait for
    /// another connection's session ticket. Stamps `timing.tls_done` and `resumed_tls_session`.
    boost::asio::awaitable<error_code> handshake(connection& conn, const origin& where, const named_deadline& whole,
                                                 handshake_gate& admission, diagnostics& diag,
                                                 transport_timing& timing);

    /// Ends every wait for a lookup or a session; later connects fail with `errc::client_closed`.
    void close();

    /// The certificates trusted, shared with every connector of the process that trusts the same
    /// ones (null with `insecure`).
    const void* trusted_store() const noexcept;

    struct lookup_mailbox; // where a host lookup's thread delivers its answer

private:
    struct origin_state;
    origin_state& state_of(const origin& where);

    boost::asio::any_io_executor executor_;
    const client_params& params_;
    // The certificates trusted: shared with every client of the process that trusts the same ones.
    std::shared_ptr<boost::asio::ssl::context> trusted_;
    boost::asio::ssl::context tls_;
    std::unordered_map<origin, std::unique_ptr<origin_state>, origin_hash> origins_;
    std::shared_ptr<lookup_mailbox> mailbox_;
    bool closed_ = false;
};

} // namespace fxrates::detail
