#pragma once

// One HTTP/1.1 exchange on an open connection: write the request, read one final answer through
// the sans-io `response_parser`. The answer's time limits live here, not in the stream: until its
// first byte the first-byte limit (the server's thinking time), then at most `read_idle` between
// two reads, and never past the whole request's deadline. A template over the stream (TLS now,
// plain TCP for http:// origins), included by the transport's one translation unit.

#include <fxrates/diagnostics.hpp>
#include <fxrates/error.hpp>

#include "client/deadline.hpp"
#include "client/http/origin.hpp"
#include "client/http/response_parser.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>

namespace fxrates::detail {

struct exchange_limits
{
    named_deadline first_byte; ///< the answer's first byte (within `whole`)
    std::chrono::steady_clock::duration read_idle = std::chrono::seconds(10);
    named_deadline whole; ///< the whole answer
};

struct exchange_result
{
    error_code error;
    bool got_answer = false; ///< some byte of an answer (a 1xx included) arrived
    bool reusable = false;   ///< the connection may carry another request
    std::chrono::steady_clock::time_point first_byte{};
};

/// The message for a failed exchange with `peer` (a host header), unless `diag` has one already.
inline void explain_exchange_failure(const error_code& ec, const response_parser& parser, const std::string& peer,
                                     const exchange_limits& limits, bool got_answer, diagnostics& diag)
{
    if (!diag.client_message().empty())
        return;
    using std::to_string;
    std::string detail = parser.error_detail().empty() ? "" : ": " + parser.error_detail();
    if (ec == errc::http2_only)
        diag.set_client_message("the server at " + peer + " answered with an HTTP/2 frame");
    else if (ec == errc::bad_http)
        diag.set_client_message("the answer from " + peer + " is not valid HTTP/1.1" + detail);
    else if (ec == errc::header_limit)
        diag.set_client_message("the header of the answer from " + peer + " is larger than the header limit" + detail);
    else if (ec == errc::body_limit)
        diag.set_client_message("the answer from " + peer + " is larger than the body limit" + detail);
    else if (ec == errc::truncated_answer)
        diag.set_client_message("the connection to " + peer + " closed before the answer was complete" + detail);
    else if (ec == errc::bad_content_encoding)
        diag.set_client_message("the compressed answer from " + peer + " cannot be decoded" + detail);
    else if (ec == boost::beast::error::timeout)
    {
        if (!got_answer)
            diag.set_client_message("no answer from " + peer + " within " + limits.first_byte.text() +
                                    "; the server may be down or overloaded");
        else if (std::chrono::steady_clock::now() < limits.whole.at)
            diag.set_client_message("the answer from " + peer + " stalled: nothing arrived within the read idle "
                                    "timeout (" + seconds_text(limits.read_idle) +
                                    "); the server or the network may be overloaded");
        else
            diag.set_client_message("the answer from " + peer + " did not finish within " + limits.whole.text() +
                                    ": it came too slowly, or is too long to read in that time");
    }
    else if (ec == boost::asio::error::operation_aborted)
        diag.set_client_message(got_answer ? "cancelled while the answer was arriving"
                                           : "cancelled while waiting for the answer");
    else
        diag.set_client_message(std::string(got_answer ? "the connection to " + peer + " failed during the answer: "
                                                       : "the connection to " + peer + " failed before any answer: ") +
                                ec.message());
}

/// Whether `stream` holds bytes of the peer's that nobody has read (a TLS stream can tell).
template <class Stream>
bool has_unread_input(const Stream& stream)
{
    if constexpr (requires { stream.has_unread_input(); })
        return stream.has_unread_input();
    else
        return false;
}

/// Writes `request` and reads one final answer into `parser`. The stream's lowest layer is a
/// `beast::tcp_stream`, whose expiry carries the limits. `buffer` holds what was read past the
/// answer: a connection with bytes left over is never reused, so that answers cannot go out of
/// step with requests.
template <class Stream>
boost::asio::awaitable<exchange_result> run_exchange(Stream& stream, boost::beast::flat_buffer& buffer,
                                                     std::string_view request, response_parser& parser,
                                                     const exchange_limits& limits, const origin& peer,
                                                     diagnostics& diag)
{
    namespace asio = boost::asio;
    constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
    using clock_type = std::chrono::steady_clock;

    exchange_result result;
    auto& tcp = boost::beast::get_lowest_layer(stream);
    auto fail = [&](error_code ec) {
        tcp.expires_never();
        result.error = ec;
        result.got_answer = result.got_answer || parser.got_bytes();
        explain_exchange_failure(ec, parser, peer.host_header(), limits, result.got_answer, diag);
        return result;
    };

    tcp.expires_at(limits.first_byte.at);
    auto [write_ec, written] = co_await asio::async_write(stream, asio::buffer(request.data(), request.size()),
                                                          use_tuple);
    if (write_ec)
        co_return fail(write_ec);

    // Reads start at 4 KiB (a rates answer is one ~1.3 KiB record) and grow while they fill up.
    std::size_t read_size = 4096;
    buffer.clear();
    for (;;)
    {
        auto expiry = result.first_byte == clock_type::time_point{}
                          ? limits.first_byte.at
                          : std::min(deadline_after(limits.read_idle), limits.whole.at);
        tcp.expires_at(expiry);
        auto [ec, read] = co_await stream.async_read_some(buffer.prepare(read_size), use_tuple);
        if (read != 0)
        {
            if (result.first_byte == clock_type::time_point{})
                result.first_byte = clock_type::now();
            buffer.commit(read);
            if (read == read_size && read_size < 64 * 1024)
                read_size *= 2;
            auto data = buffer.data();
            buffer.consume(parser.feed(std::string_view(static_cast<const char*>(data.data()), data.size())));
            if (parser.error())
                co_return fail(parser.error());
            if (parser.done())
                break;
        }
        if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated)
        {
            // The peer closed: with close_notify (eof) or without (truncated), which cannot end a
            // close-delimited body; a body with a length or chunks cut short stays an error.
            // Closed before a byte of an answer: a connection failure (a keep-alive connection
            // the server had closed while idle looks exactly like this), not a bad answer.
            if (!parser.got_bytes())
                co_return fail(ec);
            parser.feed_eof(ec == asio::error::eof);
            if (parser.done())
                break;
            co_return fail(parser.error() ? parser.error() : error_code(errc::truncated_answer));
        }
        if (ec)
            co_return fail(ec);
        // A stream's expiry may never fire while every read completes at once (a server that
        // sends fast and for ever), nor does a cancellation, which only ends a read that waits:
        // both are also checked between reads.
        if (clock_type::now() >= limits.whole.at)
            co_return fail(boost::beast::error::timeout);
        if (asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
            state.cancelled() != asio::cancellation_type::none)
            co_return fail(asio::error::operation_aborted);
    }
    tcp.expires_never();
    result.got_answer = true;
    result.reusable = parser.keep_alive() && buffer.size() == 0 && !has_unread_input(stream);
    // An idle connection keeps a small read buffer (a few KiB: allocating it for every answer
    // costs more than it saves), never a large one a big answer left behind.
    if (buffer.size() == 0 && buffer.capacity() > 16 * 1024)
        buffer.shrink_to_fit();
    co_return result;
}

} // namespace fxrates::detail
