#pragma once

#include <fxrates/client_params.hpp>
#include <fxrates/diagnostics.hpp>
#include <fxrates/error.hpp>
#include <fxrates/request_timing.hpp>

#include "client/api_url.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace fxrates::detail {

/// An HTTP answer: status and body.
struct http_answer
{
    unsigned status = 0;
    std::string body;
    /// The Retry-After header in seconds, when it has one.
    std::optional<std::chrono::seconds> retry_after;
};

/// A duration for messages: "0.25 s", "30 s".
std::string seconds_text(std::chrono::steady_clock::duration duration);

/// A limit for messages: "the request timeout (30 s)".
inline std::string limit_text(const char* name, std::chrono::steady_clock::duration length)
{
    return std::string("the ") + name + " (" + seconds_text(length) + ")";
}

/// Why a request that the rate limit held past `limit` (a `limit_text`) failed, and what to do.
inline std::string rate_limit_held_message(const std::string& limit)
{
    return "the rate limit held the request past " + limit +
           "; raise the rate (--rate) or the timeout, or ask for fewer bases";
}

/// A deadline and the limit that sets it, for the message if it passes.
struct named_deadline
{
    std::chrono::steady_clock::time_point at;
    const char* name = "request timeout";         ///< e.g. "connect timeout"
    std::chrono::steady_clock::duration length{}; ///< the limit's own length, e.g. 10 s

    /// "the connect timeout (10 s)": made only when a message needs it.
    std::string text() const { return limit_text(name, length); }

    /// The deadline that comes first; on a tie, `outer` (the one that bounds the other).
    static named_deadline earlier(const named_deadline& inner, const named_deadline& outer)
    {
        return inner.at < outer.at ? inner : outer;
    }
};

/// When one attempt must have reached each point.
struct request_deadlines
{
    named_deadline queue;   ///< a connection is had (idle, or a slot for a new one); never after `request`
    named_deadline request; ///< the whole answer is read
};

/// HTTPS GETs to one origin over a pool of keep-alive connections. Beast and OpenSSL stay behind
/// this interface, in one translation unit.
///
/// Every request is bounded by its deadlines, and each phase by its own timeout (connect, TLS,
/// first byte, read idle). A
/// reused connection that the server had closed is retried once on a fresh one (GET is idempotent).
/// Runs on one executor; not thread-safe.
class https_transport
{
public:
    /// Throws `boost::system::system_error` if a CA file cannot be loaded.
    https_transport(boost::asio::any_io_executor executor, api_endpoint endpoint, const client_params& params);
    ~https_transport();

    https_transport(const https_transport&) = delete;
    https_transport& operator=(const https_transport&) = delete;

    /// GETs `target`. A non-2xx status is not an error here: it is in `out.status`. Transport
    /// errors are returned, with an explanation in `diag`.
    /// Phases are stamped into `timing` as they happen.
    boost::asio::awaitable<error_code, boost::asio::any_io_executor> get(std::string target, http_answer& out,
                                                                         diagnostics& diag, request_timing& timing,
                                                                         request_deadlines deadlines);

    /// Closes idle connections; requests waiting for a connection fail with `errc::client_closed`.
    void close();

    const api_endpoint& endpoint() const noexcept;

private:
    class impl;
    std::shared_ptr<impl> impl_;
};

} // namespace fxrates::detail
