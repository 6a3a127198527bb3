#pragma once

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace fxrates {

/// fxrates reports failures as `boost::system::error_code`; Asio, Beast, SSL and JSON codes pass
/// through unchanged.
using error_code = boost::system::error_code;

/// Errors raised by fxrates itself (category `fxrates.client`).
enum class errc
{
    /// The server answered, but not with what was asked for: not a valid rates API document, or
    /// (a fetch) a status that is not an answer, such as a redirect not followed.
    bad_response = 1,

    /// The API URL is not an `https://host[:port][/path]` URL.
    bad_api_url,

    /// A batch did not finish within its time limit; this base was still pending.
    batch_deadline,

    /// The client was closed while the operation was pending.
    client_closed,

    /// A function run by `async_offload` threw an exception that was not a `system_error`.
    offload_exception,

    /// A worker (a strategy's thread or process) failed or stopped before it answered.
    worker_failed,

    /// The server's answer is not HTTP/1.x as RFC 9112 allows it (diagnostics say what was wrong).
    bad_http,

    /// The server speaks only HTTP/2; fxrates speaks HTTP/1.1.
    http2_only,

    /// The answer's header block (or its chunk extensions and trailers) is larger than
    /// `client_params::header_limit`.
    header_limit,

    /// The answer's body, once decoded, is larger than `client_params::body_limit`.
    body_limit,

    /// The connection closed before the answer was complete (a body shorter than its length).
    truncated_answer,

    /// The body is compressed with a coding fxrates cannot decode, or its compressed data is corrupt.
    bad_content_encoding,

    /// More redirects than `client_params::max_redirects`, or any when it is 0.
    too_many_redirects,

    /// A redirect leads back to a URL already visited.
    redirect_loop,

    /// A redirect from https to http (refused: it would drop the transport's security).
    insecure_redirect,

    /// A redirect without a usable Location.
    bad_redirect,

    /// An unexpected exception inside fxrates (a bug); its text is in the diagnostics.
    internal,

    /// A URL to fetch is not an absolute `http://` or `https://` URL with a host.
    bad_url,
};

/// The category of `errc`.
const boost::system::error_category& client_category() noexcept;

/// The category whose values are HTTP status codes (`fxrates.http`). Only 4xx and 5xx count as
/// failures.
const boost::system::error_category& http_category() noexcept;

/// Kinds of failure that callers test for without knowing every source, e.g. to decide on retries.
enum class condition
{
    /// A deadline passed.
    timeout = 1,
    /// The server asked us to slow down (HTTP 429).
    rate_limited,
    /// Worth retrying later: HTTP 502, 503, 504.
    transient,
    /// The server's answer could not be understood.
    bad_response,
    /// TLS failed: the certificate was refused, or the handshake or a record failed.
    tls,
    /// The operation was cancelled (by its caller, Ctrl-C, or closing the client).
    cancelled,
    /// The connection failed or was closed before an answer came: refused, reset, closed early,
    /// host unreachable. A fresh connection may succeed.
    connection,
};

/// The category of `condition` (`fxrates.condition`).
const boost::system::error_category& condition_category() noexcept;

inline error_code make_error_code(errc e) noexcept
{
    return {static_cast<int>(e), client_category()};
}

inline boost::system::error_condition make_error_condition(condition c) noexcept
{
    return {static_cast<int>(c), condition_category()};
}

/// An error code for an HTTP status, e.g. `make_http_error(404)`.
inline error_code make_http_error(unsigned status) noexcept
{
    return {static_cast<int>(status), http_category()};
}

} // namespace fxrates

template <>
struct boost::system::is_error_code_enum<fxrates::errc> : std::true_type
{
};

template <>
struct boost::system::is_error_condition_enum<fxrates::condition> : std::true_type
{
};
