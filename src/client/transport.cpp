#include "client/transport.hpp"

#include "client/tls_session_cache.hpp"
#include "client/deadline.hpp"
#include "client/tls_stream.hpp"
#include "client/wait_queue.hpp"

#include <fxrates/retry_policy.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <openssl/x509_vfy.h>

#include <algorithm>
#include <ctime>
#include <exception>
#include <stdexcept>
#include <vector>

namespace fxrates::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;

std::string seconds_text(std::chrono::steady_clock::duration duration)
{
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
    char text[32];
    std::snprintf(text, sizeof text, "%.3g s", static_cast<double>(ms) / 1000.0);
    return text;
}

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// The end of a phase that may last `length` within a request that must end by `deadlines.request`,
// and which limit it is, for the message if it passes.
named_deadline phase_limit(const char* name, clock_type::duration length, const request_deadlines& deadlines)
{
    return named_deadline::earlier({deadline_after(length), name, length}, deadlines.request);
}

// Errors that mean a reused keep-alive connection had been closed by the server while idle.
bool is_stale_connection(const error_code& ec)
{
    return ec == asio::error::eof || ec == http::error::end_of_stream || ec == ssl::error::stream_truncated ||
           ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
           ec == asio::error::connection_aborted;
}

struct connection
{
    connection(const asio::any_io_executor& executor, ssl::context& tls) : stream(executor, tls.native_handle()) {}

    tls_stream stream;
    beast::flat_buffer buffer;
    clock_type::time_point idle_since{};
};

// A shared lookup of the host: concurrent connects wait for one resolution instead of each
// queueing its own on Asio's single resolver thread. It cannot be cancelled (no resolver can), so
// waiters abandon it on timeout and it finishes in the background.
struct resolution
{
    wait_queue waiters; // woken when the answer comes
    bool done = false;
    error_code ec;
    tcp::resolver::results_type results;
};

} // namespace

class https_transport::impl : public std::enable_shared_from_this<impl>
{
public:
    impl(asio::any_io_executor executor, api_endpoint endpoint, const client_params& params)
        : executor_(std::move(executor)), endpoint_(std::move(endpoint)), params_(params),
          sessions_(executor_), tls_(ssl::context::tls_client)
    {
        tls_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                         ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
        if (params_.resume_tls_sessions)
            sessions_.attach(tls_.native_handle());
        if (params_.insecure)
            tls_.set_verify_mode(ssl::verify_none);
        else
        {
            tls_.set_verify_mode(ssl::verify_peer);
            if (params_.use_system_trust)
                tls_.set_default_verify_paths();
            if (!params_.ca_file.empty())
                tls_.load_verify_file(params_.ca_file);
            if (!params_.ca_pem.empty())
                tls_.add_certificate_authority(asio::buffer(params_.ca_pem));
        }
        // Nothing of the embedder's may end a header line early (header injection).
        if (std::any_of(params_.user_agent.begin(), params_.user_agent.end(),
                        [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
            throw std::invalid_argument("client_params::user_agent must not contain control characters");
        request_tail_ = " HTTP/1.1\r\nHost: " + endpoint_.host_header() + "\r\nUser-Agent: " + params_.user_agent +
                        "\r\nAccept: application/json\r\n\r\n";
        if (endpoint_.host_is_ip)
        {
            endpoints_.push_back(tcp::endpoint(asio::ip::make_address(endpoint_.host), endpoint_.port));
        }
    }

    const api_endpoint& endpoint() const noexcept { return endpoint_; }

    asio::awaitable<error_code> get(std::string target, http_answer& out, diagnostics& diag, request_timing& timing,
                                    request_deadlines deadlines)
    {
        auto self = shared_from_this(); // outlive the client if it is destroyed meanwhile
        timing.started = clock_type::now();
        for (int attempt = 0;; ++attempt)
        {
            std::unique_ptr<connection> conn;
            if (auto ec = co_await acquire(conn, deadlines.queue.at, diag))
                co_return ec;
            held_connection held{*this, conn};
            if (auto stop = co_await stopped())
            {
                // Cancelled, or the client closed, while the connection was being found.
                bool idle_one = conn != nullptr; // an idle connection goes back; a bare slot is freed
                held.release(idle_one);
                co_return stop;
            }
            bool reused = conn != nullptr;
            timing.reused_connection = reused;
            if (!conn)
            {
                conn = std::make_unique<connection>(executor_, tls_);
                busy_.push_back(conn.get());
                auto ec = co_await connect(*conn, deadlines, diag, timing);
                if (!ec)
                    ec = co_await stopped();
                if (ec)
                {
                    held.release(false);
                    co_return ec;
                }
            }
            else
            {
                busy_.push_back(conn.get());
                timing.connected = timing.tls_done = clock_type::now();
            }

            bool got_response_bytes = false, keep_alive = false;
            auto ec = co_await exchange(*conn, target, deadlines, out, got_response_bytes, keep_alive, timing, diag);
            if (!ec)
            {
                held.release(keep_alive);
                co_return ec;
            }
            held.release(false);
            // The server may close an idle keep-alive connection just as we reuse it: nothing was
            // answered, so the GET is safely sent again, once, on a fresh connection.
            if (reused && !got_response_bytes && attempt == 0 && is_stale_connection(ec))
                continue;
            co_return explain(ec, "waiting for the answer", diag);
        }
    }

    // Why not to start another step: the client closed, or the coroutine was cancelled (its
    // state says so); empty if neither.
    asio::awaitable<error_code> stopped()
    {
        if (closed_)
            co_return errc::client_closed;
        auto state = co_await asio::this_coro::cancellation_state;
        co_return state.cancelled() != asio::cancellation_type::none ? error_code(asio::error::operation_aborted)
                                                                     : error_code{};
    }

    void close()
    {
        closed_ = true;
        sessions_.close();
        for (auto& conn : idle_)
            beast::get_lowest_layer(conn->stream).close();
        open_ -= idle_.size();
        idle_.clear();
        for (auto* conn : busy_)
            beast::get_lowest_layer(conn->stream).close();
        slot_waiters_.notify_all();
        handshake_waiters_.notify_all();
    }

private:
    // A connection, or a slot for one, that an attempt holds. An exception that leaves the attempt
    // gives it back, so that the slot is not lost and close() finds no freed connection in busy_.
    // A coroutine frame destroyed unresumed (its io_context gone) gives nothing back: the loop that
    // would serve the waiters is gone too.
    struct held_connection
    {
        impl& self;
        std::unique_ptr<connection>& conn;
        bool held = true;
        int exceptions = std::uncaught_exceptions();

        void release(bool reusable)
        {
            held = false;
            self.release(std::move(conn), reusable);
        }
        ~held_connection()
        {
            if (held && std::uncaught_exceptions() > exceptions)
                self.release(std::move(conn), false);
        }
    };

    // Takes an idle connection into `conn`, or leaves it null with a slot reserved for a new one.
    asio::awaitable<error_code> acquire(std::unique_ptr<connection>& conn, clock_type::time_point deadline,
                                        diagnostics& diag)
    {
        for (;;)
        {
            if (closed_)
                co_return errc::client_closed;
            while (!idle_.empty())
            {
                // Most recently used first: the least likely to have been closed by the server.
                auto candidate = std::move(idle_.back());
                idle_.pop_back();
                if (clock_type::now() - candidate->idle_since < params_.idle_timeout)
                {
                    conn = std::move(candidate);
                    co_return error_code{};
                }
                --open_;
            }
            if (open_ < std::max<std::size_t>(1, params_.max_connections))
            {
                ++open_;
                co_return error_code{};
            }
            auto woke = co_await slot_waiters_.wait(executor_, deadline);
            if (woke == wait_queue::wake_reason::notified)
                continue; // by release() or close(): look again
            if (woke == wait_queue::wake_reason::timed_out)
            {
                diag.set_client_message("no connection to " + endpoint_.host_header() + " became free in time (" +
                                        seconds_text(params_.queue_timeout) + " queue timeout, " +
                                        seconds_text(params_.request_timeout) +
                                        " request timeout); raise the connection limit or the timeouts");
                co_return beast::error::timeout;
            }
            co_return asio::error::operation_aborted;
        }
    }

    void release(std::unique_ptr<connection> conn, bool reusable)
    {
        // Swap-and-pop: at most max_connections pointers, and no allocation per request.
        auto busy = std::find(busy_.begin(), busy_.end(), conn.get());
        if (busy != busy_.end())
        {
            *busy = busy_.back();
            busy_.pop_back();
        }
        if (reusable && !closed_)
        {
            conn->idle_since = clock_type::now();
            idle_.push_back(std::move(conn));
        }
        else
        {
            conn.reset();
            --open_;
        }
        slot_waiters_.notify_one();
    }

    asio::awaitable<error_code> resolve(const named_deadline& limit, diagnostics& diag)
    {
        if (!resolving_)
        {
            resolving_ = std::make_shared<resolution>();
            asio::co_spawn(executor_, resolve_in_background(resolving_, endpoint_.host, std::to_string(endpoint_.port)),
                           asio::detached);
        }
        auto pending = resolving_;
        if (!pending->done)
        {
            auto woke = co_await pending->waiters.wait(executor_, limit.at);
            if (!pending->done)
            {
                if (woke == wait_queue::wake_reason::cancelled)
                    co_return asio::error::operation_aborted;
                diag.set_client_message("cannot resolve the host '" + endpoint_.host + "' within " + limit.text());
                co_return beast::error::timeout;
            }
        }
        if (resolving_ == pending)
            resolving_.reset();
        if (pending->ec)
        {
            diag.set_client_message("cannot resolve the host '" + endpoint_.host + "': " + pending->ec.message());
            co_return pending->ec;
        }
        endpoints_.assign(pending->results.begin(), pending->results.end());
        co_return error_code{};
    }

    static asio::awaitable<void> resolve_in_background(std::shared_ptr<resolution> state, std::string host,
                                                       std::string port)
    {
        tcp::resolver resolver(co_await asio::this_coro::executor);
        auto [ec, results] = co_await resolver.async_resolve(host, port, use_tuple);
        state->ec = ec;
        state->results = std::move(results);
        state->done = true;
        state->waiters.notify_all();
    }

    asio::awaitable<error_code> connect(connection& conn, const request_deadlines& deadlines, diagnostics& diag,
                                        request_timing& timing)
    {
        auto& tcp_layer = beast::get_lowest_layer(conn.stream);
        auto connect_limit = phase_limit("connect timeout", params_.connect_timeout, deadlines);
        if (endpoints_.empty())
            if (auto ec = co_await resolve(connect_limit, diag))
                co_return ec;
        if (auto stop = co_await stopped())
            co_return stop;

        tcp_layer.expires_at(connect_limit.at);
        auto [ec, connected] = co_await tcp_layer.async_connect(endpoints_, use_tuple);
        if (ec)
        {
            // Look the host up again next time: its address may have changed.
            if (!endpoint_.host_is_ip)
                endpoints_.clear();
            co_return explain(ec, "connecting", connect_limit, diag);
        }
        tcp_layer.socket().set_option(tcp::no_delay(true), ec);
        timing.connected = clock_type::now();
        if (auto stop = co_await stopped())
            co_return stop;

        SSL* native = conn.stream.native_handle();
        // SNI carries host names only, never IP addresses (RFC 6066).
        bool named = endpoint_.host_is_ip || SSL_set_tlsext_host_name(native, endpoint_.host.c_str()) == 1;
        if (!params_.insecure)
        {
            // OpenSSL checks the name itself, so a mismatch is reported as such in the verify result.
            X509_VERIFY_PARAM* verify = SSL_get0_param(native);
            X509_VERIFY_PARAM_set_hostflags(verify, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            named = named && (endpoint_.host_is_ip
                                  ? X509_VERIFY_PARAM_set1_ip_asc(verify, endpoint_.host.c_str()) == 1
                                  : X509_VERIFY_PARAM_set1_host(verify, endpoint_.host.c_str(),
                                                                endpoint_.host.size()) == 1);
        }
        if (!named)
        {
            // Never fall back to a connection whose certificate name goes unchecked.
            diag.set_client_message("cannot check certificates for the host '" + endpoint_.host + "'");
            co_return error_code(ssl::error::unspecified_system_error);
        }
        bool pioneer = false;
        // Whatever ends this coroutine, a pioneer hands its role on.
        struct pioneer_release
        {
            tls_session_cache& sessions;
            bool& pioneer;
            ~pioneer_release()
            {
                if (pioneer)
                    sessions.handshake_finished(true, false, {}, false);
            }
        } release_on_exit{sessions_, pioneer};
        if (params_.resume_tls_sessions)
        {
            // Waiting for another connection's ticket may take a quarter of the handshake's own
            // budget at most; the handshake's time starts after it.
            auto wait_until = std::min(deadline_after(params_.handshake_timeout / 4), deadlines.request.at);
            pioneer = co_await sessions_.prepare(native, wait_until);
        }
        if (auto stop = co_await stopped())
            co_return stop;
        auto handshake_limit = phase_limit("TLS handshake timeout", params_.handshake_timeout, deadlines);
        // Waiting for a handshake slot counts against the handshake's own limit. A slot freed
        // while others wait is handed to the longest waiter, so newcomers never overtake them.
        if (handshakes_ < std::max<std::size_t>(1, params_.max_handshakes) && handshake_waiters_.empty())
            ++handshakes_;
        else
        {
            auto woke = co_await handshake_waiters_.wait(executor_, handshake_limit.at);
            if (closed_)
                co_return errc::client_closed; // close() wakes every waiter but hands no slot over
            if (woke == wait_queue::wake_reason::timed_out)
                co_return explain(beast::error::timeout, "waiting to start the TLS handshake", handshake_limit, diag);
            if (woke == wait_queue::wake_reason::cancelled)
                co_return asio::error::operation_aborted;
        }
        // Held from here on whatever happens, so that a stop below still passes the slot on.
        struct handshake_slot
        {
            impl& self;
            ~handshake_slot() { self.end_handshake(); }
        } slot{*this};
        if (auto stop = co_await stopped())
            co_return stop;
        if (params_.resume_tls_sessions)
        {
            if (pioneer)
                sessions_.offer(native); // one that came while it waited for its slot, if any
            else
                co_await sessions_.refresh(native, handshake_limit.at);
            if (auto stop = co_await stopped())
                co_return stop;
        }
        tcp_layer.expires_at(handshake_limit.at);
        auto handshake_started = clock_type::now();
        std::tie(ec) = co_await conn.stream.async_handshake(use_tuple);
        timing.resumed_tls_session = !ec && SSL_session_reused(native) == 1;
        sessions_.handshake_finished(pioneer, !ec, clock_type::now() - handshake_started, timing.resumed_tls_session);
        pioneer = false; // reported
        if (ec)
        {
            long verify_result = SSL_get_verify_result(native);
            if (verify_result != X509_V_OK)
            {
                diag.set_client_message("the certificate of " + endpoint_.host_header() + " was rejected: " +
                                        X509_verify_cert_error_string(verify_result) +
                                        "; trust its CA with a CA file (--cacert), or skip verification "
                                        "for a server you control (--insecure)");
                co_return ec;
            }
            co_return explain(ec, "in the TLS handshake", handshake_limit, diag);
        }
        timing.tls_done = clock_type::now();
        co_return error_code{};
    }

    // A handshake ended: its slot goes to the longest waiter, or is freed if nobody waits.
    void end_handshake()
    {
        if (!handshake_waiters_.empty() && !closed_)
            handshake_waiters_.notify_one();
        else
            --handshakes_;
    }

    asio::awaitable<error_code> exchange(connection& conn, const std::string& target, const request_deadlines& deadlines,
                                         http_answer& out, bool& got_response_bytes, bool& keep_alive,
                                         request_timing& timing, diagnostics& diag)
    {
        auto& tcp_layer = beast::get_lowest_layer(conn.stream);
        // Sending the request and waiting for the answer's first bytes: the server's thinking time.
        // Then the answer may pause for the idle timeout at most between reads.
        auto first_byte_limit = phase_limit("first-byte timeout", params_.first_byte_timeout, deadlines);
        tcp_layer.expires_at(first_byte_limit.at);

        // Every request differs only in its target, which `rates_target` percent-encoded.
        std::string request;
        request.reserve(4 + target.size() + request_tail_.size());
        request.append("GET ").append(target).append(request_tail_);
        auto [ec, written] = co_await asio::async_write(conn.stream, asio::buffer(request), use_tuple);
        if (ec)
            co_return explain_timeout(ec, "no answer from " + endpoint_.host_header(), first_byte_limit, diag);
        if (auto stop = co_await stopped())
            co_return stop;

        http::response_parser<http::string_body> parser;
        parser.body_limit(params_.body_limit);
        conn.stream.limit_answer(first_byte_limit.at, params_.read_idle_timeout, deadlines.request.at);
        std::size_t read = 0;
        std::tie(ec, read) = co_await http::async_read(conn.stream, conn.buffer, parser, use_tuple);
        conn.stream.clear_answer_limits();
        got_response_bytes = parser.got_some();
        if (conn.stream.answer_started() != clock_type::time_point{})
            timing.first_byte = conn.stream.answer_started();
        if (ec == beast::error::timeout && diag.client_message().empty())
        {
            std::string host = endpoint_.host_header();
            if (conn.stream.answer_started() == clock_type::time_point{})
                explain_timeout(ec, "no answer from " + host, first_byte_limit, diag);
            else if (clock_type::now() < deadlines.request.at)
                diag.set_client_message("the answer from " + host + " stalled: nothing arrived within the read idle "
                                        "timeout (" + seconds_text(params_.read_idle_timeout) +
                                        "); the server or the network may be overloaded");
            else
                diag.set_client_message("the answer from " + host + " did not finish within " +
                                        deadlines.request.text() + "; it came too slowly");
        }
        if (ec)
            co_return ec;

        tcp_layer.expires_never();
        auto& response = parser.get();
        out.status = response.result_int();
        out.body = std::move(response.body());
        auto retry_after = response[http::field::retry_after];
        out.retry_after = parse_retry_after(std::string_view(retry_after.data(), retry_after.size()),
                                            std::chrono::system_clock::now());
        keep_alive = response.keep_alive();
        co_return error_code{};
    }

    // A timeout's message names the limit that passed; other errors are explained by the caller.
    error_code explain_timeout(const error_code& ec, const std::string& what, const named_deadline& limit,
                               diagnostics& diag) const
    {
        if (ec == beast::error::timeout && diag.client_message().empty())
            diag.set_client_message(what + " within " + limit.text() + "; the server may be down or overloaded");
        return ec;
    }

    error_code explain(const error_code& ec, const char* phase, const named_deadline& limit, diagnostics& diag) const
    {
        if (ec == beast::error::timeout)
            explain_timeout(ec, "no progress " + std::string(phase) + " with " + endpoint_.host_header(), limit, diag);
        return explain(ec, phase, diag);
    }

    error_code explain(const error_code& ec, const char* phase, diagnostics& diag) const
    {
        if (!diag.client_message().empty())
            return ec;
        // Timeouts have their message already: each names the limit that passed (explain_timeout).
        std::string where = endpoint_.host_header();
        if (ec == http::error::body_limit)
            diag.set_client_message("the answer from " + where + " is larger than the limit of " +
                                    std::to_string(params_.body_limit) + " bytes");
        else if (ec == asio::error::operation_aborted)
            diag.set_client_message("cancelled " + std::string(phase));
        else
            diag.set_client_message("the connection to " + where + " failed " + std::string(phase) + ": " +
                                    ec.message());
        return ec;
    }

    asio::any_io_executor executor_;
    api_endpoint endpoint_;
    client_params params_;
    tls_session_cache sessions_; // before tls_: OpenSSL calls into it until the context is gone
    ssl::context tls_;
    std::string request_tail_; // " HTTP/1.1\r\nHost: ...": everything of a request after its target
    std::vector<tcp::endpoint> endpoints_;
    std::shared_ptr<resolution> resolving_;
    std::vector<std::unique_ptr<connection>> idle_;
    std::vector<connection*> busy_; // in use by a request: closed by close()
    wait_queue slot_waiters_; // requests waiting for a free connection, in order
    std::size_t open_ = 0;
    wait_queue handshake_waiters_; // new connections waiting to start their handshake, in order
    std::size_t handshakes_ = 0;   // TLS handshakes under way
    bool closed_ = false;
};

https_transport::https_transport(asio::any_io_executor executor, api_endpoint endpoint, const client_params& params)
    : impl_(std::make_shared<impl>(std::move(executor), std::move(endpoint), params))
{
}

https_transport::~https_transport()
{
    impl_->close();
}

asio::awaitable<error_code> https_transport::get(std::string target, http_answer& out, diagnostics& diag,
                                                 request_timing& timing, request_deadlines deadlines)
{
    auto self = impl_;
    co_return co_await self->get(std::move(target), out, diag, timing, deadlines);
}

void https_transport::close()
{
    impl_->close();
}

const api_endpoint& https_transport::endpoint() const noexcept
{
    return impl_->endpoint();
}

} // namespace fxrates::detail
