#pragma once

#include <fxrates/retry_policy.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace fxrates {

class shared_pace;

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

    /// Resume TLS sessions: new connections reuse a session ticket the server gave an earlier one,
    /// which skips the certificate exchange (most of a handshake's CPU on both sides). When many
    /// connections open at once, the first does a full handshake and the others wait for its
    /// ticket, a round trip or so, and give up waiting if none comes. Off only to keep connections
    /// unlinkable.
    bool resume_tls_sessions = true;

    /// Longest time to resolve the host and open a TCP connection.
    std::chrono::steady_clock::duration connect_timeout = std::chrono::seconds(10);

    /// Longest TLS handshake.
    std::chrono::steady_clock::duration handshake_timeout = std::chrono::seconds(10);

    /// Longest wait before a request is on its way: for the throttle (`rate`) and for a free
    /// connection (`max_connections`).
    std::chrono::steady_clock::duration queue_timeout = std::chrono::seconds(30);

    /// Longest time from sending a request to the first bytes of its answer: the server's
    /// thinking time.
    std::chrono::steady_clock::duration first_byte_timeout = std::chrono::seconds(20);

    /// Longest silence between reads once an answer has begun (header and body): a stalled
    /// transfer fails early.
    std::chrono::steady_clock::duration read_idle_timeout = std::chrono::seconds(10);

    /// Longest time one attempt may take in all: waiting for a connection, connecting, sending
    /// and receiving the whole answer (so it also bounds an answer that trickles in).
    std::chrono::steady_clock::duration request_timeout = std::chrono::seconds(30);

    /// Longest time one base may take, every attempt and the backoff between them included: no
    /// retry starts that could not finish by then.
    std::chrono::steady_clock::duration total_timeout = std::chrono::seconds(60);

    /// Longest time a whole batch (`async_get_rates_batch`) may take; bases not done by then
    /// complete with `errc::batch_deadline`.
    std::chrono::steady_clock::duration batch_timeout = std::chrono::seconds(60);

    /// Idle keep-alive connections older than this are not reused.
    std::chrono::steady_clock::duration idle_timeout = std::chrono::seconds(30);

    /// Most connections open at once, every origin together; further requests wait for one.
    std::size_t max_connections = 100;

    /// Most connections open to any one origin (scheme, host, port) at once.
    std::size_t max_connections_per_origin = 100;

    /// Most TLS handshakes under way at once (0 counts as 1); further new connections wait, in
    /// order and within the handshake timeout, for one to end. Until its handshake ends a
    /// connection holds about 40 KiB of OpenSSL state (its handshake buffers, besides the
    /// connection's own), so a burst of new connections costs at most this many times that. Up
    /// to this many new connections never wait for a slot; beyond it, each starts its handshake
    /// when an earlier one ends, so the connections past this many start a handshake or so later.
    std::size_t max_handshakes = 32;

    /// Largest answer body accepted, counted after decompression, so that a small compressed
    /// "bomb" fails as soon as its output passes the limit; a larger body fails with `errc::body_limit`.
    std::size_t body_limit = 1024 * 1024;

    /// Largest header block of an answer (status line and fields; chunk extensions and trailers
    /// count against it too, so nothing a server sends grows memory past the limits); a larger one
    /// fails with `errc::header_limit`.
    std::size_t header_limit = 64 * 1024;

    /// Redirects (301, 302, 303, 307, 308) followed per request at most; 0 returns the redirect
    /// answer itself. Each hop goes to its own origin's connections and certificate check; a
    /// redirect from https to http is refused (`errc::insecure_redirect`), a loop fails
    /// (`errc::redirect_loop`), naming the chain.
    unsigned max_redirects = 10;

    /// Send `Accept-Encoding: gzip, deflate`, so that servers may compress answers (decoded as they
    /// arrive). A compressed answer that was not asked for is decoded all the same.
    bool accept_compression = true;

    /// The client's work runs on a strand over the executor given (unless that is a strand
    /// already), so that an `io_context` run by several threads is safe. Set false when one thread
    /// runs the executor and the client is used from it alone (an `io_context` with one `run()`,
    /// as the CLI has): the client then runs on the executor as given, and a request costs about
    /// 5% less CPU (every step of a request copies the executor and goes through the strand).
    bool thread_safe = true;

    /// The User-Agent header.
    std::string user_agent = "fxrates/0.1";

    /// Requests per second at most to each origin (scheme, host, port), shared by every request of
    /// the client to it (a token bucket that starts empty, waiters served in order); 0 means no
    /// limit. A 429 answer with Retry-After pauses that origin's bucket, so that every request
    /// queued for it waits together.
    double rate = 0;

    /// Requests the throttle lets through at once after an idle spell; 0 means `rate` (one
    /// second's worth).
    double burst = 0;
    /// A rate per origin kept together with other clients (on any threads) that hold the same
    /// pace: every request, retries and redirect hops included, takes its turn from it, and
    /// `rate` and `burst` are then its own. Null: the client keeps `rate` for itself.
    std::shared_ptr<fxrates::shared_pace> shared_pace{};

    /// An executor to decode large answers on (e.g. an `asio::thread_pool`'s), so that the event
    /// loop never spends long on one; empty means decode on the loop. The library never creates
    /// threads itself.
    boost::asio::any_io_executor decode_executor;

    /// Retries of failed requests: connection errors, timeouts, 429, 502, 503 and 504 are tried
    /// again (3 attempts in all by default) after a jittered backoff or the server's Retry-After,
    /// within a budget of 20% extra requests per batch. `retry.max_attempts = 1` turns it off.
    retry_params retry;

    /// A streamed fetch's URLs (`async_fetch_stream`, `async_fetch_batch`) whose origin is at its
    /// limit (`max_connections_per_origin`) wait aside, up to this many, holding no place among the
    /// `max_connections`, while later URLs of other origins start: a slow host holds up only its
    /// own URLs. 0: none wait aside; such a URL waits in its origin's line, holding a place. A
    /// program that feeds one list to several clients sets 0, so that one client does not take
    /// URLs that another could start.
    std::size_t max_waiting_aside = 1024;

    /// Answers at least this large are decoded on `decode_executor`. A rates answer is about 1 KB
    /// and decodes in microseconds, less than the round trip to a pool costs: only big bodies pay.
    std::size_t offload_decode_above = 256 * 1024;
};

/// Why `url` cannot be a `client_params::api_url` (not an `https://host[:port][/path]` URL), or
/// an empty string if it can. Cheap: for checking user input before anything is set up.
std::string describe_bad_api_url(std::string_view url);

} // namespace fxrates
