#pragma once

// The bookkeeping of a pool of keep-alive connections to many origins, and of the TLS handshakes
// under way, with no I/O: no sockets, timers or executors. Every function returns at once and says
// what to do next (reuse this connection, open one, wait, give up); the time is passed in. The
// async shell around it (`pooled_transport`) opens and closes the sockets and does the waiting, on
// wait_queues (client/wait_queue.hpp), and calls back in here when something changes.
//
// Connections
// -----------
// A connection is *busy* while a request uses it, and *idle* in its origin's list between requests.
// A slot handed out for a new connection counts as open and busy from that moment, so that the
// limits hold while it is being connected. The shell's steps:
//
//   1. `try_acquire(o, now)`:
//      - `reused`: an idle connection, already registered as busy;
//      - `open_new`: a reserved slot. The shell makes the Connection, registers it with `adopt`
//        as soon as it exists (so that `for_each_busy` reaches it while it connects), and if it
//        cannot make or connect it, gives the slot back: `release` (adopted) or `release_slot`;
//      - `wait`: at a limit. The shell waits for a connection to be released, then tries again;
//      - `closed`: `close()` was called: fail the request.
//   2. `release(o, conn, reusable, now)` when the request is done with it, whatever happened.
//
// A release frees room for some origins only (the per-origin limit), so the shell wakes every
// connection waiter (notify_all), or keeps one queue per origin; a single notify_one could wake a
// waiter of another origin and leave the one it would help asleep. Expired idle connections are
// dropped when `try_acquire` meets them; `drop_expired` and `next_expiry` let the shell sweep the
// others (of origins nobody asks for any more) on a timer of its own.
//
// Handshake admission
// -------------------
// At most `max_handshakes` TLS handshakes run at once, over all origins, admitted in order: nobody
// overtakes a queued waiter. A *slot* is held from admission until `end_handshake`.
//
//   1. `begin_handshake()`: `admitted`, and the caller holds a slot; or a `ticket`, queued.
//   2. A queued caller waits on the shell's handshake wait_queue. After EVERY wake-up, whatever
//      its reason (notified, timed out, cancelled, the client closed), it first calls
//      `claim_handshake(ticket)`:
//      - true: the ticket had been handed a slot, which the caller now holds (even if it meant to
//        give up: it then ends it at once with `end_handshake`, which passes it on);
//      - false: it is still queued. It waits again, or gives up with `abandon_handshake(ticket)`.
//   3. Whoever holds a slot calls `end_handshake()` exactly once, whatever ends the handshake (a
//      scope guard).
//   4. `end_handshake()` and `abandon_handshake()` hand a freed slot straight to the oldest queued
//      ticket, and return that ticket so that the shell wakes a waiter (notify_one).
//
// Why no slot is lost or counted twice: a ticket ends in exactly one of two ways. Either one
// successful claim (after which abandon is a no-op and the slot is ended once), or an abandon
// (which passes on a slot it had been handed; a later claim returns false). Both are idempotent
// on a spent ticket. The pool, not the wake-up, says who holds a slot, so a wake-up that races a
// timeout or a cancellation, a notify_all on close, or a notify_one that reaches another waiter
// than the handed ticket's, cannot mislead the shell. Tickets and the wait_queue are both FIFO,
// so notify_one normally wakes the handed ticket's waiter; if it wakes another (that one claims
// nothing and waits again), the handed waiter still claims its slot when it wakes by its deadline
// or by the next notification: a delay, never a leak. A waiter's coroutine frame destroyed
// without resuming (its io_context gone) leaves its ticket queued: the shell is dead then too.
//
// Allocation: only `try_acquire` when it reserves a slot for a new connection (a map node for a
// new origin, and room for the idle list and busy registry to hold every connection open then),
// and `begin_handshake` when it queues. Reusing an idle connection and releasing it allocate
// nothing, and `adopt`, `release`, `end_handshake` and `abandon_handshake` cannot throw, so that
// scope guards may call them.
//
// Memory: an origin with nothing open is erased, so the per-origin map holds at most
// `max_connections` origins however many are visited. Not thread-safe: the shell calls it from
// its one executor. A Connection's destructor (which closes its socket) must not call the pool.

#include "client/http/origin.hpp"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace fxrates::detail {

/// The limits of a connection_pool. A limit of 0 counts as 1.
struct pool_limits
{
    std::size_t max_connections = 100;            ///< open (busy, being connected, or idle), all origins
    std::size_t max_connections_per_origin = 100; ///< open to any one origin
    std::size_t max_handshakes = 32;              ///< TLS handshakes under way at once, all origins
    /// An idle connection unused this long is closed rather than reused (servers close theirs
    /// after a while, often without telling). Zero: connections are never reused.
    std::chrono::steady_clock::duration idle_timeout = std::chrono::seconds(30);
};

/// What `try_acquire` found.
enum class acquire_status
{
    reused,   ///< an idle connection, now busy
    open_new, ///< no idle connection, but a slot reserved for a new one
    wait,     ///< at a limit: try again after a release
    closed,   ///< the pool is closed
};

/// A place in the handshake queue. Zero is never a ticket.
struct handshake_ticket
{
    std::uint64_t value = 0;
    friend bool operator==(const handshake_ticket&, const handshake_ticket&) = default;
};

/// What `begin_handshake` decided: a slot now, or a ticket in the queue.
struct handshake_admission
{
    bool admitted = false;   ///< the caller holds a slot
    handshake_ticket ticket; ///< when not admitted: the caller's place in the queue
};

/// Keep-alive connections to many origins, and handshake admission: see the top of this file.
template <class Connection>
class connection_pool
{
public:
    using clock_type = std::chrono::steady_clock;
    using time_point = clock_type::time_point;

    struct acquire_result
    {
        acquire_status status = acquire_status::wait;
        std::unique_ptr<Connection> connection; ///< when `reused`; null otherwise
    };

    explicit connection_pool(pool_limits limits = {}) : limits_(normalized(limits)) {}
    connection_pool(const connection_pool&) = delete;
    connection_pool& operator=(const connection_pool&) = delete;

    /// The limits, zeros made ones.
    const pool_limits& limits() const noexcept { return limits_; }

    /// A connection to `o` for a request: the most recently released idle one that has not
    /// expired (the least likely to have been closed by the server), else a slot for a new one if
    /// the limits allow, else `wait`. Expired idle connections met on the way are destroyed. At
    /// the global limit, the least recently used idle connection of another origin is destroyed
    /// to make room, so that one origin's idle connections never starve the others.
    acquire_result try_acquire(const origin& o, time_point now)
    {
        if (closed_)
            return {acquire_status::closed, nullptr};
        auto it = states_.find(o);
        if (it != states_.end())
        {
            auto& idle = it->second.idle;
            while (!idle.empty())
            {
                if (!expired(idle.back().since, now))
                {
                    // busy_ has room for every open connection: this push cannot allocate.
                    auto conn = std::move(idle.back().connection);
                    busy_.push_back(conn.get());
                    idle.pop_back();
                    --idle_total_;
                    ++it->second.busy;
                    return {acquire_status::reused, std::move(conn)};
                }
                // Released in time order: everything before it has expired as well, but each is
                // looked at anyway, so that a caller whose clock went back loses nothing.
                idle.pop_back();
                --idle_total_;
                --open_total_;
            }
            if (it->second.busy >= limits_.max_connections_per_origin)
                return {acquire_status::wait, nullptr};
        }
        if (open_total_ >= limits_.max_connections && !evict_idle_except(it))
        {
            erase_if_unused(it);
            return {acquire_status::wait, nullptr};
        }
        // Room for every connection open after this one, in the registry and in the origin's idle
        // list, so that adopt, reuse and release never allocate (nor throw).
        grow(busy_, open_total_ + 1);
        if (it == states_.end())
            it = states_.try_emplace(o).first;
        try
        {
            grow(it->second.idle, it->second.busy + 1);
        }
        catch (...)
        {
            erase_if_unused(it);
            throw;
        }
        ++it->second.busy;
        ++open_total_;
        return {acquire_status::open_new, nullptr};
    }

    /// Registers the new connection made in a slot that `try_acquire` reserved for `o`, so that
    /// `for_each_busy` reaches it. Then give it back with `release`, not `release_slot`.
    void adopt([[maybe_unused]] const origin& o, Connection& conn) noexcept
    {
        assert(busy(o) > 0);
        assert(std::find(busy_.begin(), busy_.end(), &conn) == busy_.end());
        busy_.push_back(&conn); // room made by try_acquire
    }

    /// A request is done with its connection to `o`: idle again if `reusable` and the pool is
    /// open, else destroyed. Its slot is freed either way. A null `conn` is a `release_slot`.
    void release(const origin& o, std::unique_ptr<Connection> conn, bool reusable, time_point now) noexcept
    {
        auto it = states_.find(o);
        assert(it != states_.end() && it->second.busy > 0);
        if (it == states_.end() || it->second.busy == 0)
            return; // not ours: destroyed with `conn`
        if (conn)
        {
            auto registered = std::find(busy_.begin(), busy_.end(), conn.get());
            if (registered != busy_.end())
            {
                // Swap-and-pop: the order of the registry does not matter.
                *registered = busy_.back();
                busy_.pop_back();
            }
        }
        --it->second.busy;
        if (conn && reusable && !closed_)
        {
            it->second.idle.push_back({std::move(conn), now}); // room made by try_acquire
            ++idle_total_;
            return;
        }
        --open_total_;
        conn.reset();
        erase_if_unused(it);
    }

    /// Gives back a slot that `try_acquire` reserved for `o` when no connection was adopted in it
    /// (it could not be made).
    void release_slot(const origin& o) noexcept { release(o, nullptr, false, {}); }

    /// Destroys every idle connection of `o`; returns how many. When one of them turned out to
    /// have been closed by the server, the others (idle as long or longer) are no likelier open:
    /// the server restarted, or its keep-alive timeout passed for all of them.
    std::size_t drop_idle(const origin& o) noexcept
    {
        auto it = states_.find(o);
        if (it == states_.end())
            return 0;
        auto count = it->second.idle.size();
        it->second.idle.clear();
        idle_total_ -= count;
        open_total_ -= count;
        erase_if_unused(it);
        return count;
    }

    /// Whether `o` is under its per-origin limit (the global limit aside).
    bool below_origin_limit(const origin& o) const noexcept
    {
        return busy(o) < limits_.max_connections_per_origin;
    }

    /// Destroys every idle connection, of every origin, that has expired at `now`; returns how many.
    std::size_t drop_expired(time_point now) noexcept
    {
        std::size_t dropped = 0;
        for (auto it = states_.begin(); it != states_.end();)
        {
            auto& idle = it->second.idle;
            auto kept = std::remove_if(idle.begin(), idle.end(),
                                       [&](const idle_connection& c) { return expired(c.since, now); });
            auto count = static_cast<std::size_t>(idle.end() - kept);
            idle.erase(kept, idle.end());
            dropped += count;
            idle_total_ -= count;
            open_total_ -= count;
            if (it->second.busy == 0 && idle.empty())
                it = states_.erase(it);
            else
                ++it;
        }
        return dropped;
    }

    /// When the first idle connection expires (for a sweep timer), or nothing if none is idle.
    /// O(origins with connections open).
    std::optional<time_point> next_expiry() const noexcept
    {
        std::optional<time_point> first;
        for (const auto& [key, state] : states_)
        {
            // The oldest connection of an origin is at the front of its list.
            if (!state.idle.empty() && (!first || state.idle.front().since < *first))
                first = state.idle.front().since;
        }
        if (first && *first > time_point::max() - limits_.idle_timeout)
            return time_point::max();
        if (first)
            *first += limits_.idle_timeout;
        return first;
    }

    /// Destroys every idle connection; `try_acquire` reports `closed` from now on, and busy
    /// connections are destroyed when released. The shell closes the sockets of busy connections
    /// itself (`for_each_busy`) and wakes its waiters. Handshake admission goes on as before, so
    /// that the handshakes being torn down hand over and end their slots as usual.
    void close() noexcept
    {
        closed_ = true;
        for (auto it = states_.begin(); it != states_.end();)
        {
            open_total_ -= it->second.idle.size();
            idle_total_ -= it->second.idle.size();
            it->second.idle.clear();
            if (it->second.busy == 0)
                it = states_.erase(it);
            else
                ++it;
        }
    }

    bool closed() const noexcept { return closed_; }

    /// Calls `fn(Connection&)` for each busy connection registered (reused, or adopted), in no
    /// particular order. `fn` must not call the pool.
    template <class Function>
    void for_each_busy(Function&& fn) const
    {
        for (auto* conn : busy_)
            fn(*conn);
    }

    /// Takes a handshake slot if one is free and nobody is queued; otherwise queues a ticket.
    /// See the protocol at the top of this file.
    handshake_admission begin_handshake()
    {
        if (handshakes_ < limits_.max_handshakes && queue_.empty())
        {
            ++handshakes_;
            return {true, {}};
        }
        // Room for every queued ticket to be handed a slot without allocating in end_handshake.
        grow(handed_, handed_.size() + queue_.size() + 1);
        queue_.push_back(next_ticket_);
        return {false, {next_ticket_++}};
    }

    /// True if `ticket` had been handed a slot: the caller holds it from now on and ends it with
    /// `end_handshake`. False if it is still queued, or spent (claimed or abandoned before).
    bool claim_handshake(handshake_ticket ticket) noexcept
    {
        auto handed = std::find(handed_.begin(), handed_.end(), ticket.value);
        if (handed == handed_.end())
            return false;
        *handed = handed_.back();
        handed_.pop_back();
        return true;
    }

    /// The caller's handshake is over (done, failed or abandoned): its slot goes to the oldest
    /// queued ticket, which is returned (wake its waiter), or is freed.
    std::optional<handshake_ticket> end_handshake() noexcept
    {
        assert(handshakes_ > handed_.size()); // the caller holds a slot that is not merely handed
        return pass_on_slot();
    }

    /// A queued waiter gives up (timeout, cancellation, close). If `ticket` had already been
    /// handed a slot, the slot goes to the next queued ticket, which is returned (wake its
    /// waiter), or is freed. A spent ticket changes nothing.
    std::optional<handshake_ticket> abandon_handshake(handshake_ticket ticket) noexcept
    {
        auto queued = std::find(queue_.begin(), queue_.end(), ticket.value);
        if (queued != queue_.end())
        {
            queue_.erase(queued);
            return std::nullopt;
        }
        if (claim_handshake(ticket))
            return pass_on_slot();
        return std::nullopt;
    }

    /// Connections open (busy, being connected, or idle), all origins.
    std::size_t open() const noexcept { return open_total_; }
    /// Connections open to `o`.
    std::size_t open(const origin& o) const noexcept { return busy(o) + idle(o); }
    /// Connections in use, or being connected, all origins.
    std::size_t busy() const noexcept { return open_total_ - idle_total_; }
    /// Connections to `o` in use, or being connected.
    std::size_t busy(const origin& o) const noexcept
    {
        auto it = states_.find(o);
        return it == states_.end() ? 0 : it->second.busy;
    }
    /// Idle connections to `o`, expired or not.
    std::size_t idle(const origin& o) const noexcept
    {
        auto it = states_.find(o);
        return it == states_.end() ? 0 : it->second.idle.size();
    }
    /// Idle connections, all origins.
    std::size_t idle_total() const noexcept { return idle_total_; }
    /// Origins with a connection open: those the pool keeps state for.
    std::size_t origins() const noexcept { return states_.size(); }
    /// Busy connections registered (reused, or adopted): those `for_each_busy` visits.
    std::size_t registered_busy() const noexcept { return busy_.size(); }

    /// Handshake slots held, including those handed to a ticket not claimed yet.
    std::size_t handshakes_under_way() const noexcept { return handshakes_; }
    /// Tickets queued for a handshake slot.
    std::size_t waiting_handshakes() const noexcept { return queue_.size(); }
    /// Tickets handed a slot and not claimed (nor abandoned) yet.
    std::size_t handed_handshakes() const noexcept { return handed_.size(); }

private:
    struct idle_connection
    {
        std::unique_ptr<Connection> connection;
        time_point since; // released then
    };

    struct origin_state
    {
        std::vector<idle_connection> idle; // a stack: the most recently released at the back
        std::size_t busy = 0;              // in use, or slots reserved for new connections
    };

    using state_map = std::unordered_map<origin, origin_state, origin_hash>;

    static pool_limits normalized(pool_limits limits) noexcept
    {
        limits.max_connections = std::max<std::size_t>(1, limits.max_connections);
        limits.max_connections_per_origin = std::max<std::size_t>(1, limits.max_connections_per_origin);
        limits.max_handshakes = std::max<std::size_t>(1, limits.max_handshakes);
        limits.idle_timeout = std::max(limits.idle_timeout, clock_type::duration::zero());
        return limits;
    }

    // Capacity for `size` elements at least, growing geometrically as push_back would.
    template <class Vector>
    static void grow(Vector& v, std::size_t size)
    {
        if (v.capacity() < size)
            v.reserve(std::max(size, 2 * v.capacity()));
    }

    // Expired at exactly idle_timeout: a server with the same timeout may be closing it just then.
    bool expired(time_point since, time_point now) const noexcept
    {
        return now - since >= limits_.idle_timeout;
    }

    void erase_if_unused(typename state_map::iterator it) noexcept
    {
        if (it != states_.end() && it->second.busy == 0 && it->second.idle.empty())
            states_.erase(it);
    }

    // Destroys the least recently used idle connection of any origin but `except`'s; false if
    // there is none. O(origins with connections open): it runs only at the global limit.
    bool evict_idle_except(typename state_map::iterator except) noexcept
    {
        auto victim = states_.end();
        for (auto it = states_.begin(); it != states_.end(); ++it)
        {
            if (it != except && !it->second.idle.empty() &&
                (victim == states_.end() ||
                 it->second.idle.front().since < victim->second.idle.front().since))
                victim = it;
        }
        if (victim == states_.end())
            return false;
        auto& idle = victim->second.idle;
        idle.erase(idle.begin());
        --idle_total_;
        --open_total_;
        erase_if_unused(victim);
        return true;
    }

    std::optional<handshake_ticket> pass_on_slot() noexcept
    {
        assert(handshakes_ > 0);
        if (queue_.empty())
        {
            --handshakes_;
            return std::nullopt;
        }
        handshake_ticket next{queue_.front()};
        queue_.pop_front();
        handed_.push_back(next.value); // room made by begin_handshake
        return next;
    }

    pool_limits limits_;
    state_map states_;
    std::vector<Connection*> busy_; // registered busy connections, for close(): swap-and-pop
    std::size_t open_total_ = 0;
    std::size_t idle_total_ = 0;
    bool closed_ = false;

    std::size_t handshakes_ = 0;        // slots held, handed ones included
    std::deque<std::uint64_t> queue_;   // queued tickets, oldest first
    std::vector<std::uint64_t> handed_; // tickets handed a slot, not claimed yet
    std::uint64_t next_ticket_ = 1;
};

} // namespace fxrates::detail
