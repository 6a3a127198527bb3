#include <fxrates/server/local_server.hpp>
#include <fxrates/server/server.hpp>

#include <fxrates/utf8.hpp>
#include "server/demo_site.hpp"
#include "server/gzip.hpp"
#include "server/http_date.hpp"
#include "server/rate_limiter.hpp"
#include "server/rates_service.hpp"
#include "server/resource.hpp"
#include "server/static_files.hpp"
#include "server/tls_identity.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <ctime>
#include <fstream>
#include <initializer_list>
#include <iostream>
#include <list>
#include <sstream>
#include <thread>
#include <type_traits>
#include <utility>

namespace fxrates {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

using request_type = http::request<http::string_body>;
using response_type = http::response<http::string_body>;

// A request body is never needed by the API (a GET has none); a small limit keeps a POST flood cheap.
constexpr std::size_t request_body_limit = 4 * 1024;

// TLS handshakes in progress at once; more connections wait for one to finish, holding no TLS state.
// Each handshake holds an SSL object and its record buffers (about 80 KiB), and costs CPU.
constexpr std::size_t max_concurrent_handshakes = 64;

// Peers often skip close_notify; do not let a silent one hold the connection open.
constexpr auto tls_shutdown_timeout = std::chrono::seconds(1);

// How long the 4xx answer to a malformed request may take before the connection is just closed.
constexpr auto malformed_answer_timeout = std::chrono::seconds(1);

std::string read_pem_file(const std::string& path, const char* what)
{
    std::ifstream file(path, std::ios::binary);
    std::ostringstream text;
    if (file)
        text << file.rdbuf();
    if (!file || text.view().empty())
        throw std::runtime_error(path + ": cannot read the " + what + " (a PEM file is expected)");
    return std::move(text).str();
}

std::chrono::sys_days utc_today()
{
    return std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
}

// The HTTP Date header, formatted at most once a second.
class http_date
{
public:
    const std::string& now()
    {
        std::time_t seconds = std::time(nullptr);
        if (seconds != formatted_at_)
        {
            value_ = detail::format_http_date(seconds);
            formatted_at_ = seconds;
        }
        return value_;
    }

private:
    std::time_t formatted_at_ = 0;
    std::string value_;
};

std::string format_rate(double rate)
{
    std::ostringstream text;
    text << rate;
    return text.str();
}

// Where the redirect faults send clients: any path under it is served as the path without it, so
// that following a redirect gets the right answer (and so does a chain of them, each adding it).
constexpr std::string_view redirect_prefix = "/redirected";

std::string_view without_redirect_prefix(std::string_view target)
{
    while (target.starts_with(redirect_prefix) && target.substr(redirect_prefix.size()).starts_with('/'))
        target.remove_prefix(redirect_prefix.size());
    return target;
}

// The target with its `base` parameter (every one of them) set to USD, as a cache keyed on the
// path alone would answer; a target that does not parse is left alone.
std::string with_base_usd(std::string_view target)
{
    auto parsed = boost::urls::parse_origin_form(target);
    if (!parsed)
        return std::string(target);
    boost::urls::url rewritten(*parsed);
    rewritten.params().set("base", "USD");
    return std::string(rewritten.buffer());
}

std::string status_line(const response_type& response)
{
    return "HTTP/" + std::to_string(response.version() / 10) + '.' + std::to_string(response.version() % 10) +
           ' ' + std::to_string(response.result_int()) + ' ' + std::string(response.reason());
}

// The status line and fields of `response` written by hand, for the faults that Beast's serializer
// cannot produce: each line ended by `eol`, the fields in `skip` left out, and no blank line yet.
std::string raw_head(const response_type& response, std::string_view first_line, std::string_view eol,
                     std::initializer_list<http::field> skip = {})
{
    std::string text(first_line);
    text += eol;
    for (const auto& field : response)
    {
        if (std::find(skip.begin(), skip.end(), field.name()) != skip.end())
            continue;
        text.append(field.name_string()).append(": ").append(field.value()).append(eol);
    }
    return text;
}

// An HTTP/2 frame header (RFC 9113, 4.1) on stream 0: 24-bit length, type, no flags.
void append_h2_frame_header(std::string& out, std::size_t length, std::uint8_t type)
{
    const char header[9] = {static_cast<char>(length >> 16), static_cast<char>(length >> 8),
                            static_cast<char>(length), static_cast<char>(type), 0, 0, 0, 0, 0};
    out.append(header, sizeof header);
}

void append_u32(std::string& out, std::uint32_t value)
{
    for (int shift = 24; shift >= 0; shift -= 8)
        out.push_back(static_cast<char>((value >> shift) & 0xff));
}

// What a server that speaks only HTTP/2 sends to an HTTP/1.1 request: its SETTINGS (here
// SETTINGS_MAX_CONCURRENT_STREAMS = 100), then GOAWAY with last stream 0 and PROTOCOL_ERROR (1).
std::string http2_refusal()
{
    std::string bytes;
    append_h2_frame_header(bytes, 6, 0x04);
    bytes.push_back(0x00);
    bytes.push_back(0x03);
    append_u32(bytes, 100);
    append_h2_frame_header(bytes, 8, 0x07);
    append_u32(bytes, 0);
    append_u32(bytes, 1);
    return bytes;
}

// 64 MiB of zeros, gzipped to about 64 KiB: made at the first gzip-bomb, then shared (read only).
const std::string& gzip_bomb_body()
{
    static const std::string body = detail::gzip_zeros(std::uint64_t{64} << 20);
    return body;
}

// The body gzipped, as a front end or CDN does.
void compress(response_type& response)
{
    response.body() = detail::gzip_compress(response.body());
    response.set(http::field::content_encoding, "gzip");
    response.prepare_payload();
}

// A body sent piece by piece from its source (a file, a cached image, /bytes/N), never held whole.
struct streamed_body
{
    std::shared_ptr<detail::body_source> source;
    detail::byte_range range;
};

// An answer: its head, and its body either in memory (the API's) or `streamed` (then the head's
// Content-Length says how long it is, and the head's own body is empty).
struct outgoing
{
    outgoing() = default;
    outgoing(response_type head_and_body) : response(std::move(head_and_body)) {}

    response_type response;
    std::optional<streamed_body> streamed;
};

// Faults that rewrite or re-frame a body (gzip, drip, the endless ones) read a streamed body into
// memory first, if it is no larger than this; a larger one is sent as it is, or left out.
constexpr std::uint64_t fault_body_limit = 8 << 20;

// The size of the pieces a streamed body is read and written in: the memory a connection holds
// for it, whatever the body's size.
constexpr std::size_t body_piece_size = 32 * 1024;

// Answers keep their body until they are sent; a HEAD answer then announces its length only.
void as_sent_for(const request_type& request, response_type& response)
{
    if (request.method() != http::verb::head || response.body().empty())
        return;
    auto length = response.body().size();
    response.body().clear();
    response.content_length(length);
}

void as_sent_for(const request_type& request, outgoing& answer)
{
    if (request.method() == http::verb::head)
        answer.streamed.reset(); // its Content-Length is set already
    as_sent_for(request, answer.response);
}

// The status line and fields of `response` as Beast writes them, through the blank line.
std::string head_text(const response_type& response)
{
    std::ostringstream text;
    text << http::response<http::empty_body>(response.base());
    return std::move(text).str();
}

// The body of `answer` as a source: the streamed one, or a copy of the one in memory.
streamed_body body_of(const outgoing& answer)
{
    if (answer.streamed)
        return *answer.streamed;
    auto text = std::make_shared<const std::string>(answer.response.body());
    return {std::make_shared<detail::text_source>(text), {0, text->size()}};
}

// The values of every field `name` of `request`, joined with commas (RFC 9110 5.3).
std::string joined(const request_type& request, http::field name)
{
    std::string values;
    for (auto [it, end] = request.equal_range(name); it != end; ++it)
        values.append(values.empty() ? "" : ",").append(it->value());
    return values;
}

bool is_disconnect(const beast::error_code& ec)
{
    return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
           ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
           ec == beast::error::timeout || ec == asio::error::bad_descriptor;
}

} // namespace

class server::impl : public std::enable_shared_from_this<impl>
{
public:
    impl(asio::any_io_executor executor, server_params params)
        : executor_(std::move(executor)), params_(std::move(params)),
          service_(params_.history ? params_.history : ecb_history::embedded()), acceptor_(executor_),
          plain_acceptor_(executor_), tls_(ssl::context::tls_server), sweeper_(executor_)
    {
        if (!params_.root.empty())
            files_ = std::make_unique<detail::static_files>(params_.root);
        std::string key_pem;
        if (params_.certificate_file.empty() != params_.private_key_file.empty())
            throw std::runtime_error("give both a certificate file and a private key file, or neither");
        if (params_.certificate_file.empty() && !params_.certificate_pem.empty())
        {
            certificate_pem_ = params_.certificate_pem;
            key_pem = params_.private_key_pem;
        }
        else if (params_.certificate_file.empty())
        {
            auto identity = detail::make_self_signed_identity();
            certificate_pem_ = std::move(identity.certificate_pem);
            key_pem = std::move(identity.private_key_pem);
        }
        else
        {
            certificate_pem_ = read_pem_file(params_.certificate_file, "certificate");
            key_pem = read_pem_file(params_.private_key_file, "private key");
        }
        tls_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                         ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
        // Without a callback OpenSSL asks for an encrypted key's pass phrase on the terminal, and a
        // server would hang there: refuse such a key instead.
        bool asked_for_pass_phrase = false;
        tls_.set_password_callback([&](std::size_t, ssl::context::password_purpose) {
            asked_for_pass_phrase = true;
            return std::string();
        });
        auto certificate_name = params_.certificate_file.empty() ? std::string("the certificate")
                                                                 : "the certificate in " + params_.certificate_file;
        auto key_name = params_.private_key_file.empty() ? std::string("the private key")
                                                         : "the private key in " + params_.private_key_file;
        beast::error_code ec;
        tls_.use_certificate_chain(asio::buffer(certificate_pem_), ec);
        if (ec)
            throw std::runtime_error(certificate_name + " is not usable: " + ec.message());
        tls_.use_private_key(asio::buffer(key_pem), ssl::context::pem, ec);
        if (asked_for_pass_phrase)
            throw std::runtime_error(key_name + " is encrypted; give a key without a pass phrase (openssl pkey -in KEY "
                                                "-out PLAIN.pem)");
        if (ec)
            throw std::runtime_error(key_name + " is not usable or does not match " + certificate_name + ": " +
                                     ec.message());
        // A key of another type (RSA for an ECDSA certificate) is taken without a word, and then
        // every handshake fails: check the pair now.
        if (SSL_CTX_check_private_key(tls_.native_handle()) != 1)
            throw std::runtime_error(key_name + " does not match " + certificate_name);
        tls_.set_password_callback([](std::size_t, ssl::context::password_purpose) { return std::string(); });

        if (params_.rate_limit != 0) // checked by the limiter, NaN included
        {
            auto rate = detail::rate_limiter::checked_rate(params_.rate_limit, params_.burst);
            burst_ = params_.burst ? params_.burst : static_cast<unsigned>(std::ceil(rate));
            limiter_.emplace(params_.rate_limit, burst_);
        }
    }

    void start()
    {
        port_ = listen(acceptor_, params_.port);
        if (params_.plain_port)
            plain_port_ = listen(plain_acceptor_, *params_.plain_port);
        asio::co_spawn(executor_, accept_loop(shared_from_this(), acceptor_, false), asio::detached);
        if (params_.plain_port)
            asio::co_spawn(executor_, accept_loop(shared_from_this(), plain_acceptor_, true), asio::detached);
        asio::co_spawn(executor_, sweep_loop(shared_from_this()), asio::detached);
    }

    void stop()
    {
        stopped_ = true;
        beast::error_code ignored;
        acceptor_.close(ignored);
        plain_acceptor_.close(ignored);
        sweeper_.cancel();
        for (auto* connection : connections_)
            connection->close();
    }

    std::uint16_t port() const noexcept { return port_; }
    std::optional<std::uint16_t> plain_port() const noexcept
    {
        auto port = plain_port_.load();
        return port ? std::optional<std::uint16_t>(port) : std::nullopt;
    }
    const std::string& certificate_pem() const noexcept { return certificate_pem_; }
    std::uint64_t requests_served() const noexcept { return requests_served_; }
    std::size_t open_connections() const noexcept { return open_connections_; }
    const asio::any_io_executor& executor() const noexcept { return executor_; }

private:
    // Binds and listens on `port` of the address; returns the port (the one picked for 0).
    std::uint16_t listen(tcp::acceptor& acceptor, std::uint16_t port)
    {
        tcp::endpoint endpoint(asio::ip::make_address(params_.address), port);
        acceptor.open(endpoint.protocol());
        acceptor.set_option(asio::socket_base::reuse_address(true));
        acceptor.bind(endpoint);
        acceptor.listen(asio::socket_base::max_listen_connections);
        return acceptor.local_endpoint().port();
    }

    // A connection past its first phase: over TLS (`beast::ssl_stream<beast::tcp_stream>`) or
    // plain (`beast::tcp_stream`).
    template <class Stream>
    struct connection
    {
        Stream stream;
        asio::steady_timer delay;
    };

    // One client connection, in whichever phase it is. Until its first bytes come (and while it
    // waits for a handshake slot) it is only a socket and a timer, a few hundred bytes: the TLS
    // stream, whose SSL object and buffers cost about 80 KiB, is made only once the client talks.
    struct tracked
    {
        tcp::socket* bare = nullptr;        // before TLS (or before the plain stream)
        asio::steady_timer* wait = nullptr; // the handshake-slot wait, before TLS
        beast::tcp_stream* stream = nullptr; // once the stream exists: its TCP layer
        asio::steady_timer* delay = nullptr; // and the connection's timer
        std::chrono::steady_clock::time_point deadline; // for the handshake, counted from accept
        std::list<tracked*>::iterator all_it;
        std::list<tracked*>::iterator waiting_it;      // valid while pending
        std::list<tracked*>::iterator waiting_slot_it; // valid while queued
        bool pending = false; // in pending_: accepted, handshake not started
        bool granted = false; // a handshake slot was handed over while waiting
        bool queued = false;  // in slot_waiters_

        void close()
        {
            beast::error_code ignored;
            if (stream)
            {
                stream->close();
                delay->cancel();
            }
            else if (bare)
                bare->close(ignored);
            if (wait)
                wait->cancel();
        }
    };

    // Keeps a connection in the registry that `stop` closes, for as long as it lives, and in the
    // queue of pending ones (oldest first) until its handshake starts.
    class registration
    {
    public:
        registration(impl& owner, tracked& entry) : owner_(owner), entry_(entry)
        {
            entry_.all_it = owner_.connections_.insert(owner_.connections_.end(), &entry_);
            ++owner_.open_connections_;
            entry_.pending = true;
            entry_.waiting_it = owner_.pending_.insert(owner_.pending_.end(), &entry_);
            if (owner_.pending_.size() == 1)
                owner_.sweeper_.cancel(); // it sleeps while nothing is pending
        }
        ~registration()
        {
            leave_pending();
            owner_.leave_slot_queue(entry_);
            owner_.connections_.erase(entry_.all_it);
            --owner_.open_connections_;
        }
        void leave_pending() { owner_.leave_pending(entry_); }
        registration(const registration&) = delete;
        registration& operator=(const registration&) = delete;

    private:
        impl& owner_;
        tracked& entry_;
    };

    // One of the `max_concurrent_handshakes` slots, held from the handshake's start to its end.
    class handshake_slot
    {
    public:
        explicit handshake_slot(impl& owner) : owner_(&owner) {}
        ~handshake_slot() { release(); }
        void release()
        {
            if (owner_)
                std::exchange(owner_, nullptr)->release_handshake_slot();
        }
        handshake_slot(const handshake_slot&) = delete;
        handshake_slot& operator=(const handshake_slot&) = delete;

    private:
        impl* owner_;
    };

    void leave_pending(tracked& entry)
    {
        if (!entry.pending)
            return;
        pending_.erase(entry.waiting_it);
        entry.pending = false;
    }

    void leave_slot_queue(tracked& entry)
    {
        if (!entry.queued)
            return;
        slot_waiters_.erase(entry.waiting_slot_it);
        entry.queued = false;
    }

    // Closes the oldest connection that has not started its handshake, to make room for a new one:
    // a flood of silent connections then cannot keep real clients out. False if there is none.
    bool drop_oldest_pending()
    {
        if (pending_.empty())
            return false;
        auto* oldest = pending_.front();
        leave_pending(*oldest);
        oldest->close();
        return true;
    }

    // Closes pending connections whose handshake deadline has passed: one timer for all of them,
    // since they are queued in the order they were accepted and all get the same time.
    static asio::awaitable<void> sweep_loop(std::shared_ptr<impl> self)
    {
        while (!self->stopped_)
        {
            auto now = std::chrono::steady_clock::now();
            while (!self->pending_.empty() && self->pending_.front()->deadline <= now)
                self->drop_oldest_pending();
            self->sweeper_.expires_at(self->pending_.empty() ? std::chrono::steady_clock::time_point::max()
                                                             : self->pending_.front()->deadline);
            co_await self->sweeper_.async_wait(use_tuple);
        }
    }

    // Waits (FIFO) for a handshake slot; false if the connection was closed meanwhile.
    asio::awaitable<bool> acquire_handshake_slot(tracked& entry)
    {
        if (handshakes_ < max_concurrent_handshakes && slot_waiters_.empty())
        {
            ++handshakes_;
            co_return true;
        }
        entry.wait->expires_at(std::chrono::steady_clock::time_point::max());
        entry.waiting_slot_it = slot_waiters_.insert(slot_waiters_.end(), &entry);
        entry.queued = true;
        co_await entry.wait->async_wait(use_tuple);
        leave_slot_queue(entry);
        if (entry.granted && (stopped_ || !entry.bare->is_open()))
        {
            release_handshake_slot(); // handed over, but the connection was closed meanwhile
            co_return false;
        }
        co_return entry.granted;
    }

    // Hands the slot to the next waiter that is still open, or frees it.
    void release_handshake_slot()
    {
        while (!slot_waiters_.empty())
        {
            auto* next = slot_waiters_.front();
            leave_slot_queue(*next);
            if (next->bare && next->bare->is_open())
            {
                next->granted = true;
                next->wait->cancel();
                return;
            }
        }
        --handshakes_;
    }

    static asio::awaitable<void> accept_loop(std::shared_ptr<impl> self, tcp::acceptor& acceptor, bool plain)
    {
        asio::steady_timer backoff(self->executor_);
        while (!self->stopped_)
        {
            auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
            if (self->stopped_)
                break;
            if (ec)
            {
                // Out of file descriptors: make room by closing the oldest silent connection, or
                // if there is none wait for connections to close instead of spinning.
                if (self->drop_oldest_pending())
                    continue;
                backoff.expires_after(std::chrono::milliseconds(50));
                co_await backoff.async_wait(use_tuple);
                continue;
            }
            if (self->connections_.size() >= self->params_.max_connections && !self->drop_oldest_pending())
                continue; // full of clients past their handshake: the socket closes as it goes out of scope
            // A streamed body goes out in pieces; with Nagle's algorithm a piece's short tail waits
            // for the client's delayed ACK (40 ms) before the next one goes.
            boost::system::error_code ignored;
            socket.set_option(tcp::no_delay(true), ignored);
            asio::co_spawn(self->executor_, serve_connection(self, std::move(socket), plain), asio::detached);
        }
    }

    // The first phase of a connection, kept small (this frame holds no TLS state): wait for the
    // client's first bytes on the bare socket, then for a handshake slot (TLS only). A plain
    // connection is held to the same deadline for its first bytes.
    static asio::awaitable<void> serve_connection(std::shared_ptr<impl> self, tcp::socket socket, bool plain)
    {
        asio::steady_timer slot_wait(self->executor_);
        tracked entry;
        entry.bare = &socket;
        entry.wait = &slot_wait;
        entry.deadline = std::chrono::steady_clock::now() + self->params_.handshake_timeout;
        registration registered(*self, entry);
        if (self->stopped_)
            co_return; // accepted just before stop(), started just after it

        auto [ec] = co_await socket.async_wait(tcp::socket::wait_read, use_tuple);
        if (ec || self->stopped_ || !socket.is_open())
            co_return;
        if (socket.available(ec) == 0 || ec)
            co_return; // closed (or reset) before sending a byte: nothing to keep

        if (plain)
        {
            registered.leave_pending();
            co_await serve_plain(self, std::move(socket), entry);
            co_return;
        }
        if (!co_await self->acquire_handshake_slot(entry))
            co_return;
        handshake_slot slot(*self);
        registered.leave_pending();
        if (self->stopped_)
            co_return;
        co_await serve_tls(self, std::move(socket), entry, slot);
    }

    // Points `entry` at the connection's stream for as long as it exists.
    class stream_phase
    {
    public:
        template <class Stream>
        stream_phase(tracked& entry, connection<Stream>& conn) : entry_(entry)
        {
            entry_.bare = nullptr;
            entry_.wait = nullptr;
            entry_.stream = &beast::get_lowest_layer(conn.stream);
            entry_.delay = &conn.delay;
        }
        ~stream_phase()
        {
            entry_.stream = nullptr;
            entry_.delay = nullptr;
        }
        stream_phase(const stream_phase&) = delete;
        stream_phase& operator=(const stream_phase&) = delete;

    private:
        tracked& entry_;
    };

    // Transfer-Encoding is either absent or exactly `chunked`, in one field: any other coding
    // (`xchunked`, `gzip, chunked`) has a body we cannot frame or do not decode.
    static bool acceptable_transfer_encoding(const request_type& request)
    {
        auto [first, last] = request.equal_range(http::field::transfer_encoding);
        if (first == last)
            return true;
        return std::next(first) == last && beast::iequals(first->value(), "chunked");
    }

    static asio::awaitable<void> serve_tls(std::shared_ptr<impl> self, tcp::socket socket, tracked& entry,
                                           handshake_slot& slot)
    {
        beast::error_code ec;
        std::string client = socket.remote_endpoint(ec).address().to_string();
        connection<beast::ssl_stream<beast::tcp_stream>> conn{
            beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), self->tls_),
            asio::steady_timer(self->executor_)};
        stream_phase phase(entry, conn);
        auto& tcp_layer = beast::get_lowest_layer(conn.stream);

        tcp_layer.expires_at(entry.deadline);
        std::tie(ec) = co_await conn.stream.async_handshake(ssl::stream_base::server, use_tuple);
        slot.release();
        if (ec)
            co_return;

        if (co_await serve_requests(self, conn, client) && !self->stopped_)
        {
            tcp_layer.expires_after(tls_shutdown_timeout);
            std::tie(ec) = co_await conn.stream.async_shutdown(use_tuple);
        }
    }

    static asio::awaitable<void> serve_plain(std::shared_ptr<impl> self, tcp::socket socket, tracked& entry)
    {
        beast::error_code ec;
        std::string client = socket.remote_endpoint(ec).address().to_string();
        connection<beast::tcp_stream> conn{beast::tcp_stream(std::move(socket)),
                                           asio::steady_timer(self->executor_)};
        stream_phase phase(entry, conn);
        if (co_await serve_requests(self, conn, client))
            conn.stream.socket().shutdown(tcp::socket::shutdown_send, ec); // the end of the last answer
    }

    // Reads requests and answers them until the client or an answer ends the connection. True if
    // it may end cleanly (TLS close_notify); false if it is gone, or must end without a word.
    template <class Stream>
    static asio::awaitable<bool> serve_requests(std::shared_ptr<impl> self, connection<Stream>& conn,
                                                const std::string& client)
    {
        auto& tcp_layer = beast::get_lowest_layer(conn.stream);
        beast::error_code ec;
        // Capped, so that no part of a request (a chunk extension or the trailers, which Beast must
        // hold whole before parsing them) can grow it without end: they count against the header limit.
        beast::flat_buffer buffer(self->params_.header_limit);
        bool keep_alive = true;
        bool malformed = false;
        while (keep_alive && !self->stopped_)
        {
            http::request_parser<http::string_body> parser;
            parser.header_limit(static_cast<std::uint32_t>(self->params_.header_limit));
            parser.body_limit(request_body_limit);
            tcp_layer.expires_after(self->params_.request_timeout);
            std::size_t bytes = 0;
            std::tie(ec, bytes) = co_await http::async_read_header(conn.stream, buffer, parser, use_tuple);
            bool bad_coding = !ec && !acceptable_transfer_encoding(parser.get());
            if (!ec && !bad_coding && !parser.is_done())
                std::tie(ec, bytes) = co_await http::async_read(conn.stream, buffer, parser, use_tuple);

            outgoing answer;
            if (ec || bad_coding)
            {
                if (ec && (is_disconnect(ec) || self->stopped_))
                    co_return false;
                // Malformed request: say so, then close, since the stream position is unknown.
                unsigned status = ec == http::error::header_limit || ec == http::error::buffer_overflow ? 431
                                  : ec == http::error::body_limit                                       ? 413
                                                                                                        : 400;
                std::string text = status == 431   ? "Request header fields, chunk extensions or trailers too large."
                                   : status == 413 ? "Request body too large (at most " +
                                                         std::to_string(request_body_limit) + " bytes)."
                                   : bad_coding    ? "Bad request: unsupported Transfer-Encoding (only chunked)."
                                                   : "Bad request: " + ec.message() + ".";
                answer.response = self->make_response({status, detail::detail_body(text), {}}, 11, false);
                keep_alive = false;
                malformed = true;
            }
            else
            {
                const auto& request = parser.get();
                keep_alive = request.keep_alive();
                answer = self->answer(request, client);
                if (self->params_.latency > std::chrono::steady_clock::duration::zero())
                {
                    conn.delay.expires_after(self->params_.latency);
                    std::tie(ec) = co_await conn.delay.async_wait(use_tuple);
                    if (ec || self->stopped_)
                        co_return false;
                }
                auto injected = self->next_fault(request.target());
                if (self->params_.log_request)
                {
                    // Method and target are the client's bytes: escaped, so that a CR, LF or bidi
                    // override cannot forge or hide a line of the log.
                    std::string line = escape_untrusted(request.method_string(), false);
                    line.append(" ").append(escape_untrusted(request.target(), false));
                    if (auto range = joined(request, http::field::range); !range.empty())
                        line.append(" range ").append(escape_untrusted(range, false));
                    line.append(" -> ");
                    line.append(injected ? "fault " + std::string(to_string(*injected))
                                         : std::to_string(answer.response.result_int()));
                    self->params_.log_request(line);
                }
                if (injected)
                {
                    ++self->requests_served_;
                    auto next = co_await self->misbehave(conn, *injected, request, answer);
                    if (next == after_fault::drop)
                        co_return false; // the fault ended the connection
                    if (next == after_fault::close)
                        break;
                    continue;
                }
                as_sent_for(request, answer);
            }

            ++self->requests_served_;
            // A client that sent garbage may still be sending, and not reading: a short deadline
            // for the error answer, then a plain close, so that both sides cannot block on a
            // write each (a 1 MB header line would otherwise hold the connection for the whole
            // write timeout).
            if (!co_await self->send(conn, answer,
                                     malformed ? std::min<std::chrono::steady_clock::duration>(
                                                     self->params_.write_timeout, malformed_answer_timeout)
                                               : self->params_.write_timeout) ||
                malformed)
                co_return false;
        }
        co_return true;
    }

    // Sends `answer` whole, each write (of the head, of each piece of a streamed body) within
    // `write_timeout`. False if the connection failed or the server stopped meanwhile.
    template <class Stream>
    asio::awaitable<bool> send(connection<Stream>& conn, outgoing& answer,
                               std::chrono::steady_clock::duration write_timeout)
    {
        auto& tcp_layer = beast::get_lowest_layer(conn.stream);
        tcp_layer.expires_after(write_timeout);
        if (!answer.streamed)
        {
            auto [ec, written] = co_await http::async_write(conn.stream, answer.response, use_tuple);
            co_return !ec;
        }
        if (!co_await write_pieces(conn, text_body(head_text(answer.response))))
            co_return false;
        co_return co_await write_pieces(conn, *answer.streamed);
    }

    static streamed_body text_body(std::string text)
    {
        auto shared = std::make_shared<const std::string>(std::move(text));
        return {std::make_shared<detail::text_source>(shared), {0, shared->size()}};
    }

    // Writes the first `count` bytes of `body` (all of them by default), read and written
    // `piece_size` bytes at a time with a `pause` after each: the memory held is one piece. False if
    // the source cannot be read (a file that shrank), the connection failed or the server stopped.
    template <class Stream>
    asio::awaitable<bool> write_pieces(connection<Stream>& conn, streamed_body body,
                                       std::optional<std::uint64_t> count = std::nullopt,
                                       std::size_t piece_size = body_piece_size,
                                       std::chrono::steady_clock::duration pause = {})
    {
        auto& tcp_layer = beast::get_lowest_layer(conn.stream);
        auto total = std::min(count.value_or(body.range.length), body.range.length);
        auto buffer = std::make_unique<char[]>(
            static_cast<std::size_t>(std::min<std::uint64_t>(piece_size, total)) + 1);
        for (std::uint64_t sent = 0; sent < total;)
        {
            if (stopped_)
                co_return false;
            beast::error_code ec;
            auto wanted = static_cast<std::size_t>(std::min<std::uint64_t>(piece_size, total - sent));
            auto got = body.source->read(body.range.first + sent, {buffer.get(), wanted}, ec);
            if (ec || got == 0)
                co_return false; // the Content-Length cannot be kept: end the connection
            tcp_layer.expires_after(params_.write_timeout);
            std::size_t written = 0;
            std::tie(ec, written) =
                co_await asio::async_write(conn.stream, asio::buffer(buffer.get(), got), use_tuple);
            if (ec)
                co_return false;
            sent += got;
            if (pause > std::chrono::steady_clock::duration::zero())
            {
                conn.delay.expires_after(pause);
                std::tie(ec) = co_await conn.delay.async_wait(use_tuple);
                if (ec)
                    co_return false;
            }
        }
        co_return true;
    }

    std::optional<fault> next_fault(beast::string_view target)
    {
        if (params_.inject_fault)
            if (auto chosen = params_.inject_fault(std::string_view(target.data(), target.size())))
                return chosen;
        return params_.faults.draw();
    }

    // What a fault leaves of the connection.
    enum class after_fault
    {
        keep_going, // the answer was whole and the request asked for keep-alive
        close,      // the answer was whole; end with a TLS close_notify
        drop,       // the connection is gone, or must end without close_notify
    };

    // Answers with fault `kind` instead of `answer` (the right answer, with its body even for
    // HEAD) to `request`. A streamed body stays streamed where the fault only cuts or re-frames it,
    // and is read into memory (up to `fault_body_limit`) where the fault must rewrite it.
    template <class Stream>
    asio::awaitable<after_fault> misbehave(connection<Stream>& conn, fault kind, const request_type& request,
                                           outgoing& answer)
    {
        constexpr bool tls = !std::is_same_v<Stream, beast::tcp_stream>;
        auto& response = answer.response;
        auto& tcp_layer = beast::get_lowest_layer(conn.stream);
        auto reset = [&] {
            beast::error_code ignored;
            tcp_layer.socket().set_option(asio::socket_base::linger(true, 0), ignored); // RST, not FIN
            tcp_layer.close();
        };
        auto write_bytes = [&](std::string_view bytes) -> asio::awaitable<bool> {
            tcp_layer.expires_after(params_.write_timeout);
            auto [ec, written] = co_await asio::async_write(conn.stream, asio::buffer(bytes), use_tuple);
            co_return !ec;
        };
        // `head` (the answer's own, unless a fault rewrote it), then the first `body_bytes` of the
        // body (all of it by default); `piece` bytes at a time, with `pause` after each.
        auto write_answer = [&](std::string head, std::optional<std::uint64_t> body_bytes = std::nullopt,
                                std::size_t piece = body_piece_size,
                                std::chrono::steady_clock::duration pause = {}) -> asio::awaitable<bool> {
            auto body = body_of(answer);
            if (!co_await write_pieces(conn, text_body(std::move(head)), std::nullopt, piece, pause))
                co_return false;
            co_return co_await write_pieces(conn, body, body_bytes, piece, pause);
        };
        // What Beast writes of the head, for an answer as sent (a HEAD answer without its body).
        auto sent_head = [&] {
            as_sent_for(request, answer);
            return head_text(response);
        };
        // The body in memory, for the faults that rewrite it, if it is small enough.
        auto in_memory = [&] {
            if (!answer.streamed || answer.streamed->range.length > fault_body_limit)
                return;
            auto& [source, range] = *answer.streamed;
            response.body().resize(static_cast<std::size_t>(range.length));
            beast::error_code ec;
            auto got = source->read(range.first, {response.body().data(), response.body().size()}, ec);
            response.body().resize(got);
            response.content_length(got);
            answer.streamed.reset();
        };
        // After an answer that was sent whole (or not): what the request's keep-alive allows.
        auto sent = [&](bool ok) {
            if (!ok)
                return after_fault::drop;
            return response.keep_alive() ? after_fault::keep_going : after_fault::close;
        };
        auto replace = [&](unsigned status, std::string body, const char* content_type = "application/json") {
            answer.streamed.reset();
            response = make_response({status, std::move(body), {}}, response.version(), response.keep_alive());
            response.set(http::field::content_type, content_type);
        };
        std::string target(request.target());
        std::string relocated = std::string(redirect_prefix) + target;
        auto host = [&] {
            auto sent_host = request[http::field::host];
            return sent_host.empty() ? "127.0.0.1:" + std::to_string(port_) : std::string(sent_host);
        };
        auto redirect = [&](unsigned status, const std::string& location) {
            replace(status, detail::detail_body("Moved to " + location + "."));
            response.set(http::field::location, location);
        };
        std::string date_body = "{\"date\":\"2019-04-09\",\"base\":\"USD\"";

        switch (kind)
        {
        case fault::http_500: replace(500, detail::detail_body("Internal Server Error")); break;
        case fault::http_503:
            replace(503, detail::detail_body("Service Unavailable"));
            response.set(http::field::retry_after, "1");
            break;
        case fault::http_429:
        case fault::http_429_date:
        case fault::http_429_bare:
            replace(429, "{\"detail\":\"Rate limit exceeded. Try again in 1 seconds.\",\"retry_after\":1}");
            if (kind == fault::http_429)
                response.set(http::field::retry_after, "1");
            else if (kind == fault::http_429_date)
                response.set(http::field::retry_after, detail::format_http_date(std::time(nullptr) + 2));
            break;
        case fault::bad_json: replace(200, date_body + ",\"rates\":{\"EUR\":0.88"); break;
        case fault::missing_rates: replace(200, date_body + "}"); break;
        case fault::rates_string: replace(200, date_body + ",\"rates\":\"none\"}"); break;
        case fault::huge_body: replace(200, std::string(50u << 20, ' ') + date_body + ",\"rates\":{}}"); break;
        case fault::html_page:
            replace(502, "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>",
                    "text/html");
            break;
        case fault::reset: reset(); co_return after_fault::drop;
        case fault::reset_mid_body:
        case fault::short_body:
        {
            auto head = sent_head();
            auto length = body_of(answer).range.length;
            co_await write_answer(std::move(head), length - length / 2);
            if (kind == fault::reset_mid_body)
                reset();
            else
                tcp_layer.close(); // a FIN (inside a TLS stream): the client sees the body cut short
            co_return after_fault::drop;
        }
        case fault::stall:
        {
            // Hold the connection without a word until the client gives up or the server stops.
            conn.delay.expires_after(params_.request_timeout);
            co_await conn.delay.async_wait(use_tuple);
            co_return after_fault::drop;
        }
        case fault::drip:
            co_return sent(
                co_await write_answer(sent_head(), std::nullopt, 1, std::chrono::milliseconds(100)));
        case fault::tls_truncate:
        {
            co_await write_answer(sent_head());
            tcp_layer.close(); // no close_notify
            co_return after_fault::drop;
        }
        case fault::http_100_continue:
            if (!co_await write_bytes("HTTP/1.1 100 Continue\r\n\r\n"))
                co_return after_fault::drop;
            break;
        case fault::http_103_early_hints:
            if (!co_await write_bytes("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"))
                co_return after_fault::drop;
            break;
        case fault::redirect_301: redirect(301, relocated); break;
        case fault::redirect_302: redirect(302, relocated); break;
        case fault::redirect_303: redirect(303, relocated); break;
        case fault::redirect_307: redirect(307, relocated); break;
        case fault::redirect_308: redirect(308, relocated); break;
        case fault::redirect_absolute:
            redirect(302, (tls ? "https://" : "http://") + host() + relocated);
            break;
        case fault::redirect_loop: redirect(302, target); break;
        case fault::redirect_http: redirect(302, "http://" + host() + relocated); break;
        case fault::gzip:
            // Under --gzip the right answer may be compressed already; a body too large to hold is
            // sent as it is.
            in_memory();
            if (response.find(http::field::content_encoding) == response.end() && !answer.streamed)
                compress(response);
            break;
        case fault::gzip_bomb:
            replace(200, gzip_bomb_body());
            response.set(http::field::content_encoding, "gzip");
            break;
        case fault::big_header:
            for (int i = 1; i <= 12; ++i)
                response.set("X-Padding-" + std::to_string(i), std::string(1000, 'p'));
            break;
        case fault::ignore_query: answer = route(request, with_base_usd(target)); break;
        case fault::http10_close:
        case fault::http10_cut:
        {
            as_sent_for(request, answer);
            auto first_line = "HTTP/1.0 " + std::to_string(response.result_int()) + ' ' +
                              std::string(response.reason());
            auto text = raw_head(response, first_line, "\r\n",
                                 {http::field::content_length, http::field::connection,
                                  http::field::keep_alive});
            if (kind == fault::http10_close) // the close ends the body, as HTTP/1.0 allows
                co_return co_await write_answer(text.append("\r\n")) ? after_fault::close : after_fault::drop;
            auto length = body_of(answer).range.length;
            co_await write_answer(text.append("\r\n"), length - length / 2);
            tcp_layer.close(); // no close_notify: over TLS the client can tell the body was cut
            co_return after_fault::drop;
        }
        case fault::lf_only:
            as_sent_for(request, answer);
            co_return sent(
                co_await write_answer(raw_head(response, status_line(response), "\n").append("\n")));
        case fault::no_reason:
            as_sent_for(request, answer);
            co_return sent(co_await write_answer(
                raw_head(response, "HTTP/1.1 " + std::to_string(response.result_int()), "\r\n")
                    .append("\r\n")));
        case fault::endless_trailers:
        case fault::endless_chunk_ext:
            in_memory();
            answer.streamed.reset(); // too large to hold: the endless part alone
            co_return co_await send_endless(conn, kind, request, response);
        case fault::http2_only:
            co_return co_await write_bytes(http2_refusal()) ? after_fault::close : after_fault::drop;
        }
        as_sent_for(request, answer);
        co_return sent(co_await send(conn, answer, params_.write_timeout));
    }

    // A chunked answer that never ends: after the body's chunk, the last chunk and then trailer
    // fields forever, or a first chunk-size line whose extension goes on forever. It ends when the
    // client closes, the server stops, or the request timeout passes, however fast the client
    // reads; a piece of about 1 KiB is all it holds at a time.
    template <class Stream>
    asio::awaitable<after_fault> send_endless(connection<Stream>& conn, fault kind,
                                              const request_type& request, response_type& response)
    {
        auto& tcp_layer = beast::get_lowest_layer(conn.stream);
        // The stream's expiry ends a write the client does not read, but not a stream of writes that
        // each complete at once (its timer's handler can lose the race every time): check it too.
        auto deadline = std::chrono::steady_clock::now() + params_.request_timeout;
        tcp_layer.expires_at(deadline);
        as_sent_for(request, response);
        auto text = raw_head(response, status_line(response), "\r\n", {http::field::content_length});
        text += "Transfer-Encoding: chunked\r\n\r\n";
        if (kind == fault::endless_trailers)
        {
            if (!response.body().empty())
            {
                char size[20];
                auto end = std::to_chars(size, size + sizeof size, response.body().size(), 16).ptr;
                text.append(size, end).append("\r\n").append(response.body()).append("\r\n");
            }
            text += "0\r\n";
        }
        else
            text += "1";
        auto [ec, written] = co_await asio::async_write(conn.stream, asio::buffer(text), use_tuple);
        const std::string filler(1000, kind == fault::endless_trailers ? 't' : 'e');
        for (std::uint64_t n = 1; !ec && !stopped_ && std::chrono::steady_clock::now() < deadline; ++n)
        {
            text = kind == fault::endless_trailers ? "X-Trailer-" + std::to_string(n) + ": " + filler + "\r\n"
                                                   : ";x" + std::to_string(n) + "=" + filler;
            std::tie(ec, written) = co_await asio::async_write(conn.stream, asio::buffer(text), use_tuple);
        }
        tcp_layer.close(); // no close_notify: the answer never ended
        co_return after_fault::drop;
    }

    outgoing answer(const request_type& request, const std::string& client)
    {
        // RFC 9112 3.2: an HTTP/1.1 request without a Host, or with two, is refused: which site it
        // is for cannot be told (and a proxy in front may have read another one).
        const auto hosts = request.count(http::field::host);
        if (hosts > 1 || (hosts == 0 && request.version() >= 11))
            return {make_response({400, detail::detail_body(hosts > 1 ? "Bad Request: more than one Host field."
                                                                      : "Bad Request: an HTTP/1.1 request needs a Host field."),
                                   {}},
                                  request.version(), false)};
        if (limiter_)
        {
            auto decision = limiter_->check(client, std::chrono::steady_clock::now());
            if (!decision.allowed)
                return {encoded(request, rate_limited(decision.retry_after, request))};
        }
        if (params_.inject_status)
            if (auto status = params_.inject_status(request.target()))
                return {
                    encoded(request, make_response({*status, detail::detail_body("Injected failure."), {}},
                                                   request.version(), request.keep_alive()))};
        return route(request, request.target());
    }

    // The answer to `request` as if its target were `target`: the API's, or a resource's (a file
    // under the root, or the demo site's), with its body even for HEAD.
    outgoing route(const request_type& request, std::string_view target)
    {
        auto relative = without_redirect_prefix(target);
        auto path = relative.substr(0, relative.find('?'));
        if (!detail::rates_service::serves(path) && (files_ || detail::demo_site::owns(path)))
            return resource_answer(request, files_ ? files_->find(path) : demo_.find(path));
        return {api_answer(request, target)};
    }

    // A resource's answer, as RFC 9110 has it: 200, 206 with one range, 304 or 416, each with
    // the resource's validators.
    outgoing resource_answer(const request_type& request, detail::resource_lookup lookup)
    {
        if (!lookup.found && lookup.status == 301)
        {
            // The same target with the folder's slash added before the query.
            std::string target(request.target());
            auto query = std::min(target.find('?'), target.size());
            target.insert(query, "/");
            auto moved = make_response({301, detail::detail_body("Moved to " + target + "."), {}}, request.version(),
                                       request.keep_alive());
            moved.set(http::field::location, target);
            return {std::move(moved)};
        }
        if (!lookup.found)
            return {make_response({lookup.status, detail::detail_body(lookup.detail), {}}, request.version(),
                                  request.keep_alive())};
        if (request.method() != http::verb::get && request.method() != http::verb::head)
            return {make_response({405, detail::detail_body("Method Not Allowed"), "GET, HEAD"},
                                  request.version(), request.keep_alive())};
        const auto& found = *lookup.found;
        auto size = found.body->size();
        auto if_none_match = joined(request, http::field::if_none_match);
        auto if_match = joined(request, http::field::if_match);
        // Without range support the Range and If-Range fields are not read at all.
        auto range = params_.ranges ? joined(request, http::field::range) : std::string();
        detail::request_conditions conditions{request.method_string(),
                                              if_none_match,
                                              request[http::field::if_modified_since],
                                              range,
                                              params_.ranges ? std::string_view(request[http::field::if_range]) : std::string_view(),
                                              std::time(nullptr),
                                              if_match,
                                              request[http::field::if_unmodified_since]};
        auto chosen = detail::select_representation(conditions, found.etag, found.last_modified, size);

        outgoing answer{base_response(200, request.version(), request.keep_alive())};
        auto& response = answer.response;
        response.set(http::field::etag, found.etag);
        response.set(http::field::last_modified, detail::format_http_date(found.last_modified));
        if (params_.ranges)
            response.set(http::field::accept_ranges, "bytes");
        switch (chosen.kind)
        {
        case detail::selection_kind::not_modified:
            // No body, and no Content-Length: a 304 must not announce one other than the 200's.
            response.result(http::status::not_modified);
            return answer;
        case detail::selection_kind::precondition_failed:
            response.result(http::status::precondition_failed);
            response.set(http::field::content_type, "application/json");
            response.body() = detail::detail_body("Precondition Failed");
            response.prepare_payload();
            return answer;
        case detail::selection_kind::unsatisfiable:
            response.result(http::status::range_not_satisfiable);
            response.set(http::field::content_range, "bytes */" + std::to_string(size));
            response.set(http::field::content_type, "application/json");
            response.body() = detail::detail_body("Range Not Satisfiable");
            response.prepare_payload();
            return answer;
        case detail::selection_kind::partial:
            response.result(http::status::partial_content);
            response.set(http::field::content_range, detail::content_range(chosen.range, size));
            break;
        case detail::selection_kind::full: break;
        }
        response.set(http::field::content_type, found.content_type);
        response.content_length(chosen.range.length);
        answer.streamed = streamed_body{found.body, chosen.range};
        return answer;
    }

    // The API's answer to `request` as if its target were `target`, with its body even for HEAD.
    response_type api_answer(const request_type& request, std::string_view target)
    {
        auto api = service_.handle(request.method_string(), without_redirect_prefix(target),
                                   params_.today ? *params_.today : utc_today());
        return encoded(request, make_response(std::move(api), request.version(), request.keep_alive()));
    }

    // Under `server_params::gzip`, the answer compressed if the request accepts gzip.
    response_type encoded(const request_type& request, response_type response)
    {
        if (!params_.gzip)
            return response;
        response.set(http::field::vary, "Accept-Encoding");
        if (detail::accepts_gzip(joined(request, http::field::accept_encoding)))
            compress(response);
        return response;
    }

    http::response<http::string_body> rate_limited(std::chrono::steady_clock::duration wait,
                                                   const http::request<http::string_body>& request)
    {
        // Whole seconds, rounded up, and never 0: a client that waits that long will get through.
        auto seconds = std::max<long long>(
            1, std::chrono::ceil<std::chrono::seconds>(wait).count());
        std::string body = "{\"detail\":\"Rate limit exceeded. Try again in " + std::to_string(seconds) +
                           " seconds.\",\"retry_after\":" + std::to_string(seconds) + "}";
        auto response = make_response({429, std::move(body), {}}, request.version(), request.keep_alive());
        response.set(http::field::retry_after, std::to_string(seconds));
        response.set("X-RateLimit-Limit", format_rate(params_.rate_limit));
        response.set("X-RateLimit-Burst", std::to_string(burst_));
        return response;
    }

    // An answer with the fields every answer has, and no body yet.
    response_type base_response(unsigned status, unsigned version, bool keep_alive)
    {
        response_type response{static_cast<http::status>(status), version};
        response.set(http::field::server, "fxrates");
        response.set(http::field::date, date_.now());
        response.keep_alive(keep_alive);
        return response;
    }

    http::response<http::string_body> make_response(detail::api_response api, unsigned version,
                                                    bool keep_alive)
    {
        auto response = base_response(api.status, version, keep_alive);
        response.set(http::field::content_type, "application/json");
        if (!api.allow.empty())
            response.set(http::field::allow, api.allow);
        response.body() = std::move(api.body);
        response.prepare_payload();
        return response;
    }

    asio::any_io_executor executor_;
    server_params params_;
    detail::rates_service service_;
    tcp::acceptor acceptor_;
    tcp::acceptor plain_acceptor_;
    std::unique_ptr<detail::static_files> files_; // under --root
    detail::demo_site demo_;                      // without --root
    ssl::context tls_;
    std::string certificate_pem_;
    std::optional<detail::rate_limiter> limiter_;
    unsigned burst_ = 0;
    std::list<tracked*> connections_;
    std::list<tracked*> pending_;      // accepted, handshake not started; oldest first
    std::list<tracked*> slot_waiters_; // waiting for a handshake slot; first come, first served
    std::size_t handshakes_ = 0;       // slots taken
    asio::steady_timer sweeper_;
    http_date date_;
    bool stopped_ = false;
    std::atomic<std::uint16_t> port_{0};
    std::atomic<std::uint16_t> plain_port_{0}; // 0 until listening
    std::atomic<std::uint64_t> requests_served_{0};
    std::atomic<std::size_t> open_connections_{0};
};

server::server(asio::any_io_executor executor, server_params params)
    : impl_(std::make_shared<impl>(std::move(executor), std::move(params)))
{
}

server::~server()
{
    // Connections hold the impl alive; make sure they end even if the owner forgot to stop.
    if (impl_)
        asio::post(impl_->executor(), [impl = impl_] { impl->stop(); });
}

void server::start() { impl_->start(); }
void server::stop() { impl_->stop(); }
std::uint16_t server::port() const noexcept { return impl_->port(); }
std::optional<std::uint16_t> server::plain_port() const noexcept { return impl_->plain_port(); }
const std::string& server::certificate_pem() const noexcept { return impl_->certificate_pem(); }
std::uint64_t server::requests_served() const noexcept { return impl_->requests_served(); }
std::size_t server::open_connections() const noexcept { return impl_->open_connections(); }
asio::any_io_executor server::get_executor() const noexcept { return impl_->executor(); }

class local_server::impl
{
public:
    explicit impl(server_params params) : server_(context_.get_executor(), std::move(params))
    {
        server_.start();
        thread_ = std::thread([this] {
            try
            {
                context_.run();
            }
            catch (const std::exception& e)
            {
                std::cerr << "fxrates: local server stopped: " << e.what() << '\n';
            }
        });
    }

    ~impl() { stop(); }

    void stop()
    {
        if (!thread_.joinable())
            return;
        asio::post(context_, [this] { server_.stop(); });
        thread_.join();
    }

    asio::io_context context_{1};
    server server_;
    std::thread thread_;
};

local_server::local_server(server_params params) : impl_(std::make_unique<impl>(std::move(params))) {}
local_server::~local_server() = default;
std::uint16_t local_server::port() const noexcept { return impl_->server_.port(); }
std::string local_server::base_url() const { return "https://127.0.0.1:" + std::to_string(port()); }
std::optional<std::uint16_t> local_server::plain_port() const noexcept { return impl_->server_.plain_port(); }
std::string local_server::plain_base_url() const
{
    auto port = plain_port();
    return port ? "http://127.0.0.1:" + std::to_string(*port) : std::string();
}
const std::string& local_server::certificate_pem() const noexcept { return impl_->server_.certificate_pem(); }
std::uint64_t local_server::requests_served() const noexcept { return impl_->server_.requests_served(); }
std::size_t local_server::open_connections() const noexcept { return impl_->server_.open_connections(); }
void local_server::stop() { impl_->stop(); }

} // namespace fxrates
