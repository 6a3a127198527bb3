#pragma once

// TLS session resumption for one origin. A resumed handshake skips the certificate exchange, which
// is most of a full handshake's CPU on both sides (OpenSSL 3.0 spends ~0.5 ms decoding and checking
// the certificate alone), so a batch that opens 100 connections pays for one full handshake, not 100.
//
// When many connections open at once none has a session yet, so the first becomes the pioneer: it
// does a full handshake while the others, already connected over TCP, wait for its session. In TLS
// 1.3 the server sends its tickets just after the handshake and the client reads them with the first
// answer bytes, so the pioneer's ticket arrives about one round trip after its handshake; the others
// wait about that long (20 ms at least) and no longer: a server that gives no tickets costs one
// such wait, after which nobody waits again until a ticket does come.
//
// A TLS 1.3 ticket is offered once (RFC 8446, C.4): OpenSSL marks a session spent when a handshake
// that resumed it ends, though connections that started with it before then still resume. Each
// resumed connection gets a new ticket, so the cache keeps the newest few sessions, and a
// connection that finds only spent ones waits briefly for a ticket still on its way.
//
// Included by the TLS connector only (OpenSSL stays in the transport's few translation units). Like the
// connector, it runs on one executor and is not thread-safe.

#include "client/wait_queue.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <memory>
#include <vector>

namespace fxrates::detail {

class tls_session_cache
{
public:
    using clock_type = std::chrono::steady_clock;

    explicit tls_session_cache(boost::asio::any_io_executor executor) : executor_(std::move(executor))
    {
        kept_.reserve(max_kept + 1); // OpenSSL's callback keeps sessions: no allocation may throw there
    }
    tls_session_cache(const tls_session_cache&) = delete;
    tls_session_cache& operator=(const tls_session_cache&) = delete;
    ~tls_session_cache() { close(); }

    /// Has OpenSSL hand every new resumable session of `context`'s connections to the cache that
    /// each connection was `bind`-ed to (one cache per origin: a session is only ever offered to the
    /// origin that issued it).
    static void install(SSL_CTX* context)
    {
        SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(context, &on_new_session);
    }

    /// Makes this cache the one that receives `connection`'s new sessions. The cache must outlive
    /// the connection.
    void bind(SSL* connection) { SSL_set_ex_data(connection, owner_index(), this); }

    /// Before a client handshake on `connection`: gives it the cached session if there is one, else
    /// waits (at most until `deadline`) while another connection's full handshake may yield one.
    /// Returns true if this connection is now the pioneer, whose full handshake the others wait
    /// for; it must then report with `handshake_finished`. Returns early, with no session set, if
    /// the coroutine is cancelled: the caller checks for that.
    boost::asio::awaitable<bool> prepare(SSL* connection, clock_type::time_point deadline)
    {
        for (;;)
        {
            if (offer(connection))
                co_return false;
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

    /// Gives `connection` the newest session OpenSSL will still offer, if there is one (a pioneer
    /// takes one that came while it waited for its handshake slot). Never waits.
    bool offer(SSL* connection)
    {
        auto* session = usable_session();
        if (session)
            SSL_set_session(connection, session);
        return session != nullptr;
    }

    /// Right before the handshake of a connection that `prepare` readied (not the pioneer), and
    /// that may have waited for a handshake slot since: `offer`s it a session. A TLS 1.3 ticket is offered once (RFC 8446, C.4): a handshake
    /// that resumes a session spends it, and the server sends that connection a new ticket right
    /// after. So if every kept session is spent, this waits for such a ticket rather than pay for a
    /// full handshake: about two handshakes' time, a second at most, and only if that leaves most
    /// of the time until `deadline` for the handshake itself. If none comes, nobody waits again
    /// until a resumed connection brings one.
    boost::asio::awaitable<void> refresh(SSL* connection, clock_type::time_point deadline)
    {
        auto wait = std::min<clock_type::duration>(ticket_wait(), std::chrono::seconds(1));
        auto until = clock_type::now() + wait;
        bool may_wait = deadline - clock_type::now() > 2 * wait;
        for (;;)
        {
            if (offer(connection))
                co_return;
            if (!may_wait || tickets_owed_ == 0 || closed_ || no_ticket_after_resumption_)
                co_return; // no ticket is on its way
            if (clock_type::now() >= until)
            {
                no_ticket_after_resumption_ = true;
                co_return;
            }
            if (co_await waiters_.wait(executor_, until) == wait_queue::wake_reason::cancelled)
                co_return;
        }
    }

    /// A handshake ended (`succeeded` or not, `resumed` a session or not) after taking `duration`;
    /// `pioneer` if `prepare` made it the pioneer.
    void handshake_finished(bool pioneer, bool succeeded, clock_type::duration duration, bool resumed)
    {
        if (succeeded)
            last_handshake_ = duration;
        if (succeeded && resumed)
            ++tickets_owed_; // the server sends a resumed connection a new ticket
        if (!pioneer || state_ != pioneer_state::handshaking)
            return;
        if (!succeeded || usable_session())
        {
            // A failed pioneer frees the role: the next waiter to wake takes it.
            state_ = pioneer_state::none;
        }
        else
        {
            // TLS 1.3: the ticket follows the handshake.
            state_ = pioneer_state::awaiting_ticket;
            ticket_deadline_ = clock_type::now() + ticket_wait();
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
        static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
        return index;
    }

    // OpenSSL's new-session callback; returning 1 keeps the reference it hands over.
    static int on_new_session(SSL* connection, SSL_SESSION* session)
    {
        auto* self = static_cast<tls_session_cache*>(SSL_get_ex_data(connection, owner_index()));
        if (self == nullptr || !SSL_SESSION_is_resumable(session))
            return 0;
        self->keep(session);
        self->gave_up_ = false; // the server does give tickets
        if (SSL_session_reused(connection) == 1)
        {
            self->no_ticket_after_resumption_ = false; // resumed connections do get tickets
            self->tickets_owed_ -= self->tickets_owed_ > 0 ? 1 : 0;
        }
        // The pioneer's ticket, or another: nobody waits for the pioneer's any longer. A pioneer
        // still at its handshake keeps its role, so that no second one is chosen meanwhile.
        if (self->state_ == pioneer_state::awaiting_ticket)
            self->state_ = pioneer_state::none;
        self->wake_all(); // those waiting for the pioneer's ticket, or for a fresh one
        return 1;
    }

    // Keeps a new session, newest last. Beyond `max_kept`, spent and expired ones go first, then
    // the oldest.
    void keep(SSL_SESSION* session)
    {
        kept_.emplace_back(session);
        if (kept_.size() > max_kept)
            std::erase_if(kept_, [](const auto& kept) { return !offerable(kept.get()); });
        if (kept_.size() > max_kept)
            kept_.erase(kept_.begin());
    }

    // Whether OpenSSL will still offer `session`: not expired, and not spent (a TLS 1.3 ticket is
    // offered once, so a resumed handshake spends its session).
    static bool offerable(SSL_SESSION* session)
    {
        bool expired = SSL_SESSION_get_time(session) + SSL_SESSION_get_timeout(session) <= std::time(nullptr);
        return !expired && SSL_SESSION_is_resumable(session) == 1;
    }

    // The newest session OpenSSL will still offer, dropping newer ones it will not.
    SSL_SESSION* usable_session()
    {
        while (!kept_.empty())
        {
            if (offerable(kept_.back().get()))
                return kept_.back().get();
            kept_.pop_back();
        }
        return nullptr;
    }

    void wake_all() { waiters_.notify_all(); }

    // How long a ticket may take to follow a handshake: twice the last handshake (which took a
    // round trip plus its CPU), and 20 ms at least for a busy machine.
    clock_type::duration ticket_wait() const
    {
        return std::max<clock_type::duration>(2 * last_handshake_, std::chrono::milliseconds(20));
    }

    boost::asio::any_io_executor executor_;
    // Sessions, newest last; the spent and expired are dropped as they are met. Every handshake
    // brings one or two new tickets, so a few are enough for connections that start one after
    // another to find one unspent.
    static constexpr std::size_t max_kept = 8;
    std::vector<std::unique_ptr<SSL_SESSION, session_free>> kept_;
    std::size_t tickets_owed_ = 0; // resumed handshakes whose new ticket has not come yet
    pioneer_state state_ = pioneer_state::none;
    clock_type::time_point ticket_deadline_{};
    bool gave_up_ = false;
    bool no_ticket_after_resumption_ = false; // a wait for a fresh ticket after a resumption failed
    clock_type::duration last_handshake_{};
    bool closed_ = false;
    wait_queue waiters_; // connections waiting for the pioneer
};

} // namespace fxrates::detail
