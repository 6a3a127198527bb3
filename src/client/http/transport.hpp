#pragma once

// The seam between the request logic (throttle, retries, 429s, redirects, status checks, decoding:
// `fetcher`) and the wire (connection pool, TLS connector, HTTP exchange: `pooled_transport`).
// It is a plain abstract class over `any_completion_handler`, so that a test can put a scripted
// fake in its place (tests/support/fake_transport.hpp) and run the logic above it with no socket
// and no wall clock.

#include <fxrates/diagnostics.hpp>
#include <fxrates/error.hpp>

#include "client/http/body_sink.hpp"
#include "client/http/origin.hpp"
#include "client/http/request_fields.hpp"
#include "client/http/response_parser.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace fxrates::detail {

/// A limit that bounds part of a request, as time left from the moment the transport takes the
/// request (so that a transport runs on its own clock whatever clock its caller keeps), and its
/// name and full length for the message if it passes: "the request timeout (30 s)".
struct time_limit
{
    std::chrono::steady_clock::duration left = std::chrono::steady_clock::duration::max();
    const char* name = "request timeout";
    std::chrono::steady_clock::duration length{};

    /// The limit that passes first; on a tie, `outer` (the one that bounds the other).
    static const time_limit& earlier(const time_limit& inner, const time_limit& outer) noexcept
    {
        return inner.left < outer.left ? inner : outer;
    }
};

/// One GET (or HEAD) to send.
struct http_request
{
    detail::origin origin;
    std::string target = "/";                ///< origin-form: path and query, percent-encoded
    bool head = false;                       ///< HEAD instead of GET
    request_fields extra_fields;             ///< sent after Host, User-Agent, Accept-Encoding; may be null
    time_limit queue;                        ///< until a connection is had (never after `whole`)
    time_limit whole;                        ///< until the whole answer is read
    body_sink* sink = nullptr;               ///< where the body goes; null: `http_response::body`
    /// Ask for the body without a content coding (`Accept-Encoding: identity` instead of the
    /// client's own): a range of an encoded body would be a range of its encoded bytes.
    bool identity_encoding = false;
    /// Sent again after `http_response::unanswered_on_reused`: it had its turn for a connection,
    /// and goes ahead of the requests that wait for one.
    bool resend_unanswered = false;
};

/// When each step of one exchange happened; the transport owns these, the layers above copy them.
struct transport_timing
{
    using time_point = std::chrono::steady_clock::time_point;
    time_point started{};    ///< the transport began looking for a connection
    time_point connected{};  ///< TCP connected (a reused connection: when it was taken)
    time_point tls_done{};   ///< handshake done (a reused connection: when it was taken)
    time_point first_byte{}; ///< the answer's first bytes arrived
    bool reused_connection = false;
    bool resumed_tls_session = false;
};

/// What came back. On an error, `diag` explains it and `got_answer` says whether the server had
/// begun to answer (so that no message says "cannot reach" a server that answered).
struct http_response
{
    response_head head;          ///< status, version and fields of the final answer (1xx skipped)
    std::string body;            ///< the decoded body, when the request had no sink
    diagnostics diag;
    transport_timing timing;
    unsigned interim_responses = 0;
    bool got_answer = false;
    /// With an error: the request went on a reused keep-alive connection that the server closed
    /// without answering (it closed it as idle just then). Nothing was answered: the caller may send
    /// the request again at once, on a fresh connection (it is another request to the server).
    bool unanswered_on_reused = false;

    unsigned status() const noexcept { return head.status; }
};

/// Sends requests to any origin. Completion: `void(error_code, http_response)`; a non-2xx status
/// is not an error here. Cancellation: terminal, through the handler's slot. Runs on one executor.
class transport
{
public:
    using handler_type = boost::asio::any_completion_handler<void(error_code, http_response)>;

    virtual ~transport() = default;

    /// Sends `request` and reads its final answer.
    virtual void async_send(http_request request, handler_type handler) = 0;

    /// Closes idle connections; requests under way or waiting fail with `errc::client_closed`.
    virtual void close() = 0;
};

/// `transport::async_send` with any completion token, e.g. `as_tuple(use_awaitable)`.
template <class CompletionToken>
auto async_send(transport& through, http_request request, CompletionToken&& token)
{
    return boost::asio::async_initiate<CompletionToken, void(error_code, http_response)>(
        [&through](auto handler, http_request request) {
            through.async_send(std::move(request), transport::handler_type(std::move(handler)));
        },
        token, std::move(request));
}

} // namespace fxrates::detail
