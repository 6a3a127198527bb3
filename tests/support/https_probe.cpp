#include "support/https_probe.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <optional>
#include <vector>

namespace fxrates::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

// Runs `context` until `done` or the deadline; a missed deadline throws.
void run_until(asio::io_context& context, const bool& done, std::chrono::steady_clock::time_point deadline,
               const char* what)
{
    context.restart();
    while (!done)
    {
        if (std::chrono::steady_clock::now() >= deadline || context.run_one_until(deadline) == 0)
        {
            if (done)
                break;
            throw deadline_exceeded(std::string("deadline exceeded while ") + what);
        }
    }
}

void check(const error_code& ec, const char* what)
{
    if (ec)
        throw boost::system::system_error(ec, what);
}

} // namespace

struct tls_connection::state
{
    asio::io_context context{1};
    ssl::context tls{ssl::context::tls_client};
    std::optional<beast::ssl_stream<beast::tcp_stream>> stream;
    std::optional<beast::tcp_stream> plain; // instead of `stream`, without TLS
    beast::flat_buffer buffer;
    std::chrono::steady_clock::time_point deadline;

    // Calls `f` with whichever stream the connection has.
    template <class F>
    void with_stream(F&& f)
    {
        if (stream)
            f(*stream);
        else
            f(*plain);
    }

    // Runs one operation, started by `start(stream, handler)`, to its end or the deadline (which
    // throws, naming `what`); returns its error code.
    template <class Start>
    error_code complete(const char* what, Start&& start)
    {
        error_code ec;
        bool done = false;
        with_stream([&](auto& s) {
            start(s, [&](error_code e, std::size_t) {
                ec = e;
                done = true;
            });
        });
        run_until(context, done, deadline, what);
        return ec;
    }
};

namespace {

// The status, fields (names in lower case) and keep-alive of a parsed response.
template <class Message>
http_reply reply_head(const Message& message)
{
    http_reply reply;
    reply.status = message.result_int();
    for (const auto& field : message)
    {
        std::string name(field.name_string());
        for (char& c : name)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        reply.headers[name] = std::string(field.value());
    }
    reply.keep_alive = message.keep_alive();
    return reply;
}

} // namespace

tls_connection::tls_connection(std::uint16_t port, const std::string& ca_pem, std::string host_name,
                               std::chrono::milliseconds deadline)
    : state_(std::make_unique<state>())
{
    auto& s = *state_;
    s.deadline = std::chrono::steady_clock::now() + deadline;
    s.tls.add_certificate_authority(asio::buffer(ca_pem));
    s.tls.set_verify_mode(ssl::verify_peer);
    s.stream.emplace(s.context, s.tls);
    SSL_set_tlsext_host_name(s.stream->native_handle(), host_name.c_str());
    s.stream->set_verify_callback(ssl::host_name_verification(host_name));

    error_code ec;
    bool done = false;
    beast::get_lowest_layer(*s.stream).expires_at(s.deadline);
    beast::get_lowest_layer(*s.stream).async_connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), [&](error_code e) {
            ec = e;
            done = true;
        });
    run_until(s.context, done, s.deadline, "connecting");
    check(ec, "connect");
    done = false;
    s.stream->async_handshake(ssl::stream_base::client, [&](error_code e) {
        ec = e;
        done = true;
    });
    run_until(s.context, done, s.deadline, "in the TLS handshake");
    check(ec, "TLS handshake");
}

tls_connection::tls_connection(plain_http_t, std::uint16_t port, std::chrono::milliseconds deadline)
    : state_(std::make_unique<state>())
{
    auto& s = *state_;
    s.deadline = std::chrono::steady_clock::now() + deadline;
    s.plain.emplace(s.context);
    error_code ec;
    bool done = false;
    s.plain->expires_at(s.deadline);
    s.plain->async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), [&](error_code e) {
        ec = e;
        done = true;
    });
    run_until(s.context, done, s.deadline, "connecting");
    check(ec, "connect");
}

tls_connection::~tls_connection() = default;

void tls_connection::write_raw(std::string_view bytes)
{
    auto& s = *state_;
    auto write = [&](auto& stream, auto handler) { asio::async_write(stream, asio::buffer(bytes), handler); };
    check(s.complete("writing", write), "write");
}

http_reply tls_connection::read_reply(bool head_request)
{
    auto& s = *state_;
    http::response_parser<http::string_body> parser;
    parser.skip(head_request); // a HEAD response announces a body it does not send
    parser.body_limit(64 * 1024 * 1024);
    auto read = [&](auto& stream, auto handler) { http::async_read(stream, s.buffer, parser, handler); };
    check(s.complete("reading a response", read), "read response");
    auto reply = reply_head(parser.get());
    reply.body = std::move(parser.get().body());
    return reply;
}

http_reply tls_connection::read_reply_in_pieces(const std::function<void(std::string_view)>& piece)
{
    auto& s = *state_;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    auto read_head = [&](auto& stream, auto handler) {
        http::async_read_header(stream, s.buffer, parser, handler);
    };
    check(s.complete("reading a response's head", read_head), "read response head");
    std::vector<char> scratch(64 * 1024);
    while (!parser.is_done())
    {
        parser.get().body().data = scratch.data();
        parser.get().body().size = scratch.size();
        auto read = [&](auto& stream, auto handler) { http::async_read(stream, s.buffer, parser, handler); };
        auto ec = s.complete("reading a response's body", read);
        if (ec == http::error::need_buffer)
            ec = {};
        check(ec, "read response body");
        piece(std::string_view(scratch.data(), scratch.size() - parser.get().body().size));
    }
    return reply_head(parser.get());
}

http_reply tls_connection::request(std::string_view method, std::string_view target, std::string_view extra_headers)
{
    std::string text = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: localhost\r\n" +
                       std::string(extra_headers) + "\r\n";
    write_raw(text);
    return read_reply(method == "HEAD");
}

raw_answer tls_connection::read_raw(std::size_t byte_limit)
{
    auto& s = *state_;
    raw_answer answer;
    auto buffered = std::min(s.buffer.size(), byte_limit);
    answer.bytes.assign(static_cast<const char*>(s.buffer.data().data()), buffered);
    s.buffer.consume(buffered);
    if (answer.bytes.size() >= byte_limit)
        return answer;

    error_code ec;
    bool done = false;
    char scratch[16 * 1024];
    std::function<void(error_code, std::size_t)> on_read = [&](error_code e, std::size_t n) {
        answer.bytes.append(scratch, std::min(n, byte_limit - answer.bytes.size()));
        if (!e && answer.bytes.size() < byte_limit)
        {
            s.with_stream([&](auto& stream) { stream.async_read_some(asio::buffer(scratch), on_read); });
            return;
        }
        ec = e;
        done = true;
    };
    s.with_stream([&](auto& stream) { stream.async_read_some(asio::buffer(scratch), on_read); });
    run_until(s.context, done, s.deadline, "reading raw bytes");
    if (answer.bytes.size() >= byte_limit)
        answer.end = raw_end::byte_limit;
    else if (ec == asio::error::eof)
        answer.end = raw_end::close_notify;
    else if (ec == ssl::error::stream_truncated)
        answer.end = raw_end::truncated;
    else if (ec == asio::error::connection_reset)
        answer.end = raw_end::reset;
    else
        check(ec, "read raw bytes");
    return answer;
}

raw_answer tls_connection::request_raw(std::string_view method, std::string_view target,
                                       std::string_view extra_headers, std::size_t byte_limit)
{
    write_raw(std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: localhost\r\n" +
              std::string(extra_headers) + "\r\n");
    return read_raw(byte_limit);
}

bool tls_connection::wait_until_closed_by_server()
{
    auto& s = *state_;
    error_code ec;
    bool done = false;
    char scratch[4096];
    std::function<void(error_code, std::size_t)> on_read = [&](error_code e, std::size_t) {
        if (!e)
        {
            s.with_stream([&](auto& stream) { stream.async_read_some(asio::buffer(scratch), on_read); });
            return;
        }
        ec = e;
        done = true;
    };
    s.with_stream([&](auto& stream) { stream.async_read_some(asio::buffer(scratch), on_read); });
    try
    {
        run_until(s.context, done, s.deadline, "waiting for the server to close");
    }
    catch (const deadline_exceeded&)
    {
        return false;
    }
    return ec == asio::error::eof || ec == ssl::error::stream_truncated || ec == asio::error::connection_reset;
}

namespace {

// Inflates one gzip member from `compressed`, handing each piece to `sink`; false from the sink
// stops early. Returns whether the member ended (CRC and length checked by zlib) and how many
// input bytes were left after it.
std::pair<bool, std::size_t> inflate_gzip(std::string_view compressed,
                                          const std::function<bool(std::string_view)>& sink)
{
    z_stream stream{};
    if (inflateInit2(&stream, 15 + 16) != Z_OK) // gzip only, not zlib or raw deflate
        throw std::runtime_error("inflateInit2 failed");
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
    stream.avail_in = static_cast<uInt>(compressed.size());
    int result = Z_OK;
    bool more = true;
    while (more && result == Z_OK)
    {
        unsigned char piece[64 * 1024];
        stream.next_out = piece;
        stream.avail_out = sizeof piece;
        result = inflate(&stream, Z_NO_FLUSH);
        if (result != Z_OK && result != Z_STREAM_END)
            break;
        more = sink(std::string_view(reinterpret_cast<const char*>(piece), sizeof piece - stream.avail_out));
        if (result == Z_OK && stream.avail_in == 0 && stream.avail_out != 0)
            break; // the input ended before the member did
    }
    std::size_t left = stream.avail_in;
    inflateEnd(&stream);
    return {result == Z_STREAM_END, left};
}

} // namespace

std::string gunzip(std::string_view compressed, std::size_t limit)
{
    std::string inflated;
    bool too_big = false;
    auto [complete, left] = inflate_gzip(compressed, [&](std::string_view piece) {
        too_big = inflated.size() + piece.size() > limit;
        if (!too_big)
            inflated.append(piece);
        return !too_big;
    });
    if (too_big)
        throw std::runtime_error("the gzip body inflates to more than " + std::to_string(limit) + " bytes");
    if (!complete || left != 0)
        throw std::runtime_error("not exactly one whole gzip member");
    return inflated;
}

inflated_count gunzip_count(std::string_view compressed)
{
    inflated_count count;
    count.complete = inflate_gzip(compressed, [&](std::string_view piece) {
                         count.bytes += piece.size();
                         if (count.all_zero)
                             count.all_zero = std::all_of(piece.begin(), piece.end(), [](char c) { return c == 0; });
                         return true;
                     }).first;
    return count;
}

http_reply https_request(std::uint16_t port, const std::string& ca_pem, std::string_view target,
                         std::string_view method)
{
    tls_connection connection(port, ca_pem);
    return connection.request(method, target);
}

std::size_t concurrent_keep_alive_gets(std::uint16_t port, const std::string& ca_pem, std::string_view target,
                                       std::size_t connections, std::size_t requests_each,
                                       std::chrono::milliseconds deadline)
{
    asio::io_context context{1};
    ssl::context tls{ssl::context::tls_client};
    tls.add_certificate_authority(asio::buffer(ca_pem));
    tls.set_verify_mode(ssl::verify_peer);
    auto until = std::chrono::steady_clock::now() + deadline;
    std::size_t ok = 0, finished = 0, all_open = 0;
    std::string request_target(target);
    asio::steady_timer all_open_gate(context, std::chrono::steady_clock::time_point::max());
    constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

    auto client = [&]() -> asio::awaitable<void> {
        beast::ssl_stream<beast::tcp_stream> stream(context, tls);
        SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
        stream.set_verify_callback(ssl::host_name_verification("localhost"));
        beast::get_lowest_layer(stream).expires_at(until);
        auto [ec] = co_await beast::get_lowest_layer(stream).async_connect(
            tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), use_tuple);
        if (!ec)
            std::tie(ec) = co_await stream.async_handshake(ssl::stream_base::client, use_tuple);
        // Hold every connection open until all are, so that the server really has them at once.
        // Counted even on failure, so that the last one always opens the gate.
        if (++all_open == connections)
            all_open_gate.cancel();
        else if (!ec)
            co_await all_open_gate.async_wait(use_tuple);
        beast::flat_buffer buffer;
        for (std::size_t i = 0; i < requests_each && !ec; ++i)
        {
            http::request<http::empty_body> request{http::verb::get, request_target, 11};
            request.set(http::field::host, "localhost");
            std::size_t bytes = 0;
            std::tie(ec, bytes) = co_await http::async_write(stream, request, use_tuple);
            if (ec)
                break;
            http::response<http::string_body> response;
            std::tie(ec, bytes) = co_await http::async_read(stream, buffer, response, use_tuple);
            if (!ec && response.result_int() == 200)
                ++ok;
        }
        ++finished;
    };
    for (std::size_t i = 0; i < connections; ++i)
        asio::co_spawn(context, client(), asio::detached);
    while (finished < connections)
    {
        if (context.run_one_until(until) == 0 && finished < connections)
            throw deadline_exceeded("deadline exceeded with " + std::to_string(connections - finished) +
                                    " connections unfinished");
    }
    return ok;
}

bool plain_tcp_write_then_closed(std::uint16_t port, std::string_view bytes, std::chrono::milliseconds deadline)
{
    asio::io_context context{1};
    tcp::socket socket(context);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    asio::write(socket, asio::buffer(bytes));
    bool done = false;
    error_code ec;
    char scratch[4096];
    std::function<void(error_code, std::size_t)> on_read = [&](error_code e, std::size_t) {
        if (!e)
        {
            socket.async_read_some(asio::buffer(scratch), on_read);
            return;
        }
        ec = e;
        done = true;
    };
    socket.async_read_some(asio::buffer(scratch), on_read);
    try
    {
        run_until(context, done, std::chrono::steady_clock::now() + deadline, "waiting for the server to close");
    }
    catch (const deadline_exceeded&)
    {
        return false;
    }
    return ec == asio::error::eof || ec == asio::error::connection_reset;
}

} // namespace fxrates::test
