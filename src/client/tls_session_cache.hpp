#pragma once

// TLS session resumption for one origin. A resumed handshake skips the certificate exchange, which
// is most of a full handshake's CPU on both sides (OpenSSL 3.0 spends ~0.5 ms decoding and checking
// the certificate alone), so a batch that opens 100 connections pays for one full handshake, not 100.
//
// When many connections open at once none has a session yet, so the first becomes the pioneer: it
// does a full handshake while the others, already connected over TCP, wait for its session. In TLS
// 1.3 the server sends its tickets just after the handshake and the client reads them with the first
// answer bytes, so the pioneer's ticket arrives about one round trip after its handshake; the others
// wait that long (20 ms at least) and no longer: a server that gives no tickets costs one
// such wait per client, after which nobody waits again.
//
// Included by the transport only (Asio's SSL and OpenSSL stay in that one translation unit). Like the
// transport, it runs on one executor and is not thread-safe.

#include "client/wait_queue.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <memory>

namespace fxrates::detail {

class tls_session_cache
{
public:
    using clock_type = std::chrono::steady_clock;

    explicit tls_session_cache(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}
    tls_session_cache(const tls_session_cache&) = delete;
    tls_session_cache& operator=(const tls_session_cache&) = delete;
    ~tls_session_cache() { close(); }

    /// Has OpenSSL hand every new resumable session of `context`'s connections to this cache. The
    /// cache must outlive the context's connections.
    void attach(SSL_CTX* context)
    {
        SSL_CTX_set_ex_data(context, owner_index(), this);
        SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(context, &on_new_session);
    }

    /// Before a client handshake on `connection`: gives it the cached session if there is one, else
    /// waits (at most until `deadline`) while another connection's full handshake may yield one.
    /// Returns true if this connection is now the pioneer, whose full handshake the others wait
    /// for; it must then report with `handshake_finished`. Returns early, with no session set, if
    /// the coroutine is cancelled: the caller checks for that.
    boost::asio::awaitable<bool> prepare(SSL* connection, clock_type::time_point deadline)
    {
        for (;;)
        {
            drop_expired_session();
            if (session_)
            {
                SSL_set_session(connection, session_.get());
                co_return false;
            }
            if (closed_ || gave_up_)
                co_return false;
            if (state_ == pioneer_state::none)
            {
                state_ = pioneer_state::handshaking;
                co_return true;
            }
            auto until =
                state_ == pioneer_state::awaiting_ticket ? std::min(deadline, ticket_deadline_) : deadline;
            if (clock_type::now() >= until)
            {
                if (state_ == pioneer_state::awaiting_ticket && clock_type::now() >= ticket_deadline_)
                {
                    // The server gave the pioneer no ticket in time: it may give none. Stop waiting.
                    gave_up_ = true;
                    state_ = pioneer_state::none;
                }
                co_return false;
            }
            if (co_await waiters_.wait(executor_, until) == wait_queue::wake_reason::cancelled)
                co_return false;
        }
    }

    /// Right before a handshake that `prepare` readied: gives `connection` the newest session, as
    /// a session that has already been resumed may no longer be accepted.
    void refresh(SSL* connection)
    {
        drop_expired_session();
        if (session_)
            SSL_set_session(connection, session_.get());
    }

    /// The pioneer's handshake ended (`succeeded` or not) after taking `duration`.
    void handshake_finished(bool pioneer, bool succeeded, clock_type::duration duration)
    {
        if (!pioneer || state_ != pioneer_state::handshaking)
            return;
        if (!succeeded || session_)
        {
            // A failed pioneer frees the role: the next waiter to wake takes it.
            state_ = pioneer_state::none;
        }
        else
        {
            // TLS 1.3: the ticket follows the handshake. Allow it about a round trip (the handshake
            // took one, plus its CPU), and 20 ms at least for a busy machine.
            state_ = pioneer_state::awaiting_ticket;
            ticket_deadline_ = clock_type::now() +
                               std::max<clock_type::duration>(2 * duration, std::chrono::milliseconds(20));
        }
        wake_all();
    }

    /// Wakes every waiter; none waits again.
    void close()
    {
        closed_ = true;
        wake_all();
    }

private:
    enum class pioneer_state
    {
        none,            // nobody is doing a full handshake on the others' behalf
        handshaking,     // the pioneer's full handshake is under way
        awaiting_ticket, // it is done; its ticket should follow within a round trip
    };

    struct session_free
    {
        void operator()(SSL_SESSION* session) const noexcept { SSL_SESSION_free(session); }
    };

    static int owner_index()
    {
        static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
        return index;
    }

    // OpenSSL's new-session callback; returning 1 keeps the reference it hands over.
    static int on_new_session(SSL* connection, SSL_SESSION* session)
    {
        auto* self =
            static_cast<tls_session_cache*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(connection), owner_index()));
        if (self == nullptr || !SSL_SESSION_is_resumable(session))
            return 0;
        self->session_.reset(session);
        if (self->state_ != pioneer_state::none)
        {
            self->state_ = pioneer_state::none;
            self->wake_all();
        }
        return 1;
    }

    void drop_expired_session()
    {
        if (session_ && SSL_SESSION_get_time(session_.get()) + SSL_SESSION_get_timeout(session_.get()) <=
                            std::time(nullptr))
            session_.reset();
    }

    void wake_all() { waiters_.notify_all(); }

    boost::asio::any_io_executor executor_;
    std::unique_ptr<SSL_SESSION, session_free> session_;
    pioneer_state state_ = pioneer_state::none;
    clock_type::time_point ticket_deadline_{};
    bool gave_up_ = false;
    bool closed_ = false;
    wait_queue waiters_; // connections waiting for the pioneer
};

} // namespace fxrates::detail
