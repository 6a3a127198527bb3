// The connection pool's bookkeeping, with no I/O: connections are fakes that log their
// destruction (which is when a real one closes its socket), and time is a time point the test
// moves.

#include "client/http/connection_pool.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

using fxrates::detail::acquire_status;
using fxrates::detail::handshake_admission;
using fxrates::detail::handshake_ticket;
using fxrates::detail::origin;
using fxrates::detail::pool_limits;
using namespace std::chrono_literals;

namespace {

struct fake_connection
{
    fake_connection(int id, std::vector<int>& closed) : id(id), closed(&closed) {}
    fake_connection(const fake_connection&) = delete;
    fake_connection& operator=(const fake_connection&) = delete;
    ~fake_connection() { closed->push_back(id); }

    int id;
    std::vector<int>* closed;
};

using pool_type = fxrates::detail::connection_pool<fake_connection>;
using time_point = pool_type::time_point;
using connection_ptr = std::unique_ptr<fake_connection>;

origin https_origin(std::string host)
{
    return origin{"https", std::move(host), 443};
}

const origin a = https_origin("a.example");
const origin b = https_origin("b.example");
const origin c = https_origin("c.example");

pool_limits limits_of(std::size_t total, std::size_t per_origin, std::size_t handshakes = 32,
                      std::chrono::steady_clock::duration idle_timeout = 30s)
{
    pool_limits limits;
    limits.max_connections = total;
    limits.max_connections_per_origin = per_origin;
    limits.max_handshakes = handshakes;
    limits.idle_timeout = idle_timeout;
    return limits;
}

// What must hold after every step, whatever the steps were.
void check_invariants(const pool_type& pool)
{
    CHECK(pool.open() == pool.busy() + pool.idle_total());
    CHECK(pool.open() <= pool.limits().max_connections);
    CHECK(pool.registered_busy() <= pool.busy());
    CHECK(pool.origins() <= pool.open());
    std::size_t visited = 0;
    pool.for_each_busy([&](const fake_connection&) { ++visited; });
    CHECK(visited == pool.registered_busy());
    CHECK(pool.handshakes_under_way() <= pool.limits().max_handshakes);
    CHECK(pool.handed_handshakes() <= pool.handshakes_under_way());
    // Nobody waits while a slot is free.
    if (pool.waiting_handshakes() > 0)
        CHECK(pool.handshakes_under_way() == pool.limits().max_handshakes);
}

// A pool, its clock, and the log of the connections destroyed (closed), in order.
struct harness
{
    explicit harness(pool_limits limits = {}) : pool(limits) {}

    // A new connection to `o`, made in the slot the pool reserves: the pool must reserve one.
    connection_ptr open_new(const origin& o)
    {
        auto got = pool.try_acquire(o, now);
        REQUIRE(got.status == acquire_status::open_new);
        REQUIRE(got.connection == nullptr);
        auto conn = std::make_unique<fake_connection>(next_id++, closed);
        pool.adopt(o, *conn);
        return conn;
    }

    // An idle connection to `o`: the pool must have one.
    connection_ptr reuse(const origin& o)
    {
        auto got = pool.try_acquire(o, now);
        REQUIRE(got.status == acquire_status::reused);
        REQUIRE(got.connection != nullptr);
        return std::move(got.connection);
    }

    acquire_status status_of_try(const origin& o)
    {
        auto got = pool.try_acquire(o, now);
        if (got.status == acquire_status::reused)
            pool.release(o, std::move(got.connection), true, now); // put it back as it was
        return got.status;
    }

    void keep(const origin& o, connection_ptr conn) { pool.release(o, std::move(conn), true, now); }

    time_point now{};
    int next_id = 1;
    std::vector<int> closed; // destroyed after the pool: it logs the connections the pool destroys
    pool_type pool;
};

std::vector<int> ids_of_busy(const pool_type& pool)
{
    std::vector<int> ids;
    pool.for_each_busy([&](const fake_connection& conn) { ids.push_back(conn.id); });
    std::sort(ids.begin(), ids.end());
    return ids;
}

} // namespace

TEST_CASE("pool: idle connections are reused most recently released first")
{
    harness h;
    auto first = h.open_new(a);
    auto second = h.open_new(a);
    auto third = h.open_new(a);
    h.keep(a, std::move(second));
    h.now += 1s;
    h.keep(a, std::move(first));
    h.now += 1s;
    h.keep(a, std::move(third));
    CHECK(h.pool.idle(a) == 3);
    CHECK(h.pool.busy(a) == 0);
    CHECK(h.pool.open(a) == 3);
    check_invariants(h.pool);

    h.now += 1s;
    auto got = h.reuse(a);
    CHECK(got->id == 3);
    CHECK(ids_of_busy(h.pool) == std::vector<int>{3});
    auto next = h.reuse(a);
    CHECK(next->id == 1);
    CHECK(h.pool.busy(a) == 2);
    CHECK(h.pool.idle(a) == 1);
    CHECK(h.pool.open() == 3);
    check_invariants(h.pool);

    // Released again, the last one back is the first one out.
    h.keep(a, std::move(got));
    h.keep(a, std::move(next));
    auto again = h.reuse(a);
    CHECK(again->id == 1);
    h.pool.release(a, std::move(again), false, h.now);
    CHECK(h.closed == std::vector<int>{1});
    CHECK(h.pool.open() == 2);
    check_invariants(h.pool);
}

TEST_CASE("pool: an idle connection is reused just before idle_timeout and destroyed at exactly idle_timeout")
{
    harness h(limits_of(10, 10, 4, 30s));
    auto conn = h.open_new(a);
    h.keep(a, std::move(conn));

    h.now += 30s - 1ns;
    conn = h.reuse(a);
    CHECK(conn->id == 1);
    h.keep(a, std::move(conn)); // idle again from now

    h.now += 30s;
    // Expired: destroyed on the way, and a slot for a new connection instead.
    auto got = h.pool.try_acquire(a, h.now);
    CHECK(got.status == acquire_status::open_new);
    CHECK(h.closed == std::vector<int>{1});
    CHECK(h.pool.open(a) == 1);
    CHECK(h.pool.idle_total() == 0);
    check_invariants(h.pool);
    h.pool.release_slot(a);
    CHECK(h.pool.open() == 0);
}

TEST_CASE("pool: expired idle connections are all destroyed on the way, the fresh one on top is reused")
{
    harness h(limits_of(10, 10, 4, 10s));
    auto old1 = h.open_new(a);
    auto old2 = h.open_new(a);
    auto fresh = h.open_new(a);
    h.keep(a, std::move(old1));
    h.keep(a, std::move(old2));
    h.now += 10s;
    // The older ones stay below the fresh one until something reaches them.
    h.keep(a, std::move(fresh));
    auto top = h.reuse(a);
    CHECK(top->id == 3);
    h.pool.release(a, std::move(top), false, h.now);
    CHECK(h.closed == std::vector<int>{3});
    CHECK(h.pool.idle(a) == 2);

    // Both old ones have expired: taken off one by one and destroyed, most recent first.
    auto got = h.pool.try_acquire(a, h.now);
    CHECK(got.status == acquire_status::open_new);
    CHECK(h.closed == std::vector<int>{3, 2, 1});
    CHECK(h.pool.open() == 1);
    h.pool.release_slot(a);
    CHECK(h.pool.origins() == 0);
    check_invariants(h.pool);
}

TEST_CASE("pool: an idle_timeout of zero never reuses a connection")
{
    harness h(limits_of(10, 10, 4, 0s));
    h.keep(a, h.open_new(a));
    CHECK(h.pool.idle(a) == 1);
    auto again = h.open_new(a);
    CHECK(again->id == 2);
    CHECK(h.closed == std::vector<int>{1});
}

TEST_CASE("pool: at the global limit a request waits until a connection is released")
{
    harness h(limits_of(2, 10));
    auto one = h.open_new(a);
    auto two = h.open_new(b);
    CHECK(h.status_of_try(a) == acquire_status::wait);
    CHECK(h.status_of_try(c) == acquire_status::wait);
    CHECK(h.pool.open() == 2);
    CHECK(h.pool.origins() == 2); // c, which waited, left nothing behind
    check_invariants(h.pool);

    h.pool.release(b, std::move(two), false, h.now);
    CHECK(h.closed == std::vector<int>{2});
    auto three = h.open_new(c);
    CHECK(h.status_of_try(a) == acquire_status::wait);
    check_invariants(h.pool);

    // Released as reusable, it serves its own origin at once...
    h.keep(a, std::move(one));
    auto again = h.reuse(a);
    CHECK(again->id == 1);
    CHECK(h.status_of_try(b) == acquire_status::wait);
    check_invariants(h.pool);
}

TEST_CASE("pool: the per-origin limit makes one origin wait while another origin still gets connections")
{
    harness h(limits_of(10, 2));
    auto a1 = h.open_new(a);
    auto a2 = h.open_new(a);
    CHECK(h.status_of_try(a) == acquire_status::wait);
    auto b1 = h.open_new(b);
    auto b2 = h.open_new(b);
    CHECK(h.status_of_try(b) == acquire_status::wait);
    auto c1 = h.open_new(c);
    CHECK(h.pool.open(a) == 2);
    CHECK(h.pool.open(b) == 2);
    CHECK(h.pool.open() == 5);
    check_invariants(h.pool);

    // An idle connection of `a` counts against its limit, but it is reused.
    h.keep(a, std::move(a1));
    CHECK(h.status_of_try(a) == acquire_status::reused);
    auto a3 = h.reuse(a);
    CHECK(h.status_of_try(a) == acquire_status::wait);
    h.pool.release(a, std::move(a2), false, h.now);
    auto a4 = h.open_new(a);
    CHECK(h.pool.open(a) == 2);
    check_invariants(h.pool);
}

TEST_CASE("pool: at the global limit, the least recently used idle connection of another origin is destroyed to make room")
{
    harness h(limits_of(3, 3));
    auto b1 = h.open_new(b);
    auto c1 = h.open_new(c);
    auto b2 = h.open_new(b);
    h.keep(b, std::move(b1)); // t = 0: least recently used
    h.now += 1s;
    h.keep(c, std::move(c1));
    h.now += 1s;
    h.keep(b, std::move(b2));
    CHECK(h.pool.open() == 3);
    CHECK(h.pool.idle_total() == 3);

    auto a1 = h.open_new(a);
    CHECK(h.closed == std::vector<int>{1}); // b's older one
    CHECK(h.pool.idle(b) == 1);
    CHECK(h.pool.open() == 3);
    auto a2 = h.open_new(a);
    CHECK(h.closed == std::vector<int>{1, 2}); // then c's: c is erased, nothing is left of it
    CHECK(h.pool.origins() == 2);
    auto a3 = h.open_new(a);
    CHECK(h.closed == std::vector<int>{1, 2, 3});
    CHECK(h.pool.origins() == 1);
    check_invariants(h.pool);

    // With every connection busy, nothing is taken from anyone: the request waits.
    CHECK(h.status_of_try(b) == acquire_status::wait);
    CHECK(h.pool.open() == 3);
    check_invariants(h.pool);
}

TEST_CASE("pool: an origin's own idle connections are reused, not evicted, at the global limit")
{
    harness h(limits_of(2, 2));
    auto a1 = h.open_new(a);
    auto b1 = h.open_new(b);
    h.keep(a, std::move(a1));
    h.keep(b, std::move(b1));
    auto again = h.reuse(a);
    CHECK(again->id == 1);
    CHECK(h.closed.empty());
    CHECK(h.pool.idle(b) == 1);
    check_invariants(h.pool);
}

TEST_CASE("pool: releasing a connection as not reusable destroys it and frees its slot")
{
    harness h(limits_of(1, 1));
    auto conn = h.open_new(a);
    CHECK(h.status_of_try(a) == acquire_status::wait);
    h.pool.release(a, std::move(conn), false, h.now);
    CHECK(h.closed == std::vector<int>{1});
    CHECK(h.pool.open() == 0);
    CHECK(h.pool.idle_total() == 0);
    CHECK(h.pool.registered_busy() == 0);
    CHECK(h.pool.origins() == 0);
    auto next = h.open_new(a);
    CHECK(next->id == 2);
    check_invariants(h.pool);
}

TEST_CASE("pool: drop_idle destroys one origin's idle connections, so the next request opens a fresh one")
{
    harness h(limits_of(10, 4));
    auto a1 = h.open_new(a);
    auto a2 = h.open_new(a);
    auto b1 = h.open_new(b);
    h.keep(a, std::move(a1));
    h.keep(a, std::move(a2));
    h.keep(b, std::move(b1));
    auto stale = h.reuse(a); // found closed by the server
    h.pool.release(a, std::move(stale), false, h.now);
    CHECK(h.pool.drop_idle(a) == 1);
    CHECK(h.closed == std::vector<int>{2, 1});
    CHECK(h.pool.idle(a) == 0);
    CHECK(h.pool.idle(b) == 1); // other origins keep theirs
    CHECK(h.pool.drop_idle(c) == 0);
    CHECK(h.status_of_try(a) == acquire_status::open_new);
    check_invariants(h.pool);
}

TEST_CASE("pool: below_origin_limit tells whether an origin's own limit holds it")
{
    harness h(limits_of(10, 2));
    CHECK(h.pool.below_origin_limit(a));
    auto a1 = h.open_new(a);
    CHECK(h.pool.below_origin_limit(a));
    auto a2 = h.open_new(a);
    CHECK_FALSE(h.pool.below_origin_limit(a));
    CHECK(h.pool.below_origin_limit(b));
    h.keep(a, std::move(a2)); // idle does not count against the limit on busy connections
    CHECK(h.pool.below_origin_limit(a));
    h.pool.release(a, std::move(a1), false, h.now);
}

TEST_CASE("pool: release_slot gives back a slot whose connection could not be made")
{
    harness h(limits_of(1, 1));
    auto got = h.pool.try_acquire(a, h.now);
    REQUIRE(got.status == acquire_status::open_new);
    CHECK(h.pool.busy(a) == 1);
    CHECK(h.pool.registered_busy() == 0); // nothing adopted: nothing to close
    CHECK(h.status_of_try(b) == acquire_status::wait);
    h.pool.release_slot(a);
    CHECK(h.pool.open() == 0);
    CHECK(h.pool.origins() == 0);
    auto conn = h.open_new(b);
    CHECK(h.closed.empty());
    check_invariants(h.pool);
}

TEST_CASE("pool: a connection that was adopted and then failed is released not reusable, and leaves the registry")
{
    harness h(limits_of(4, 4));
    auto conn = h.open_new(a);
    auto other = h.open_new(a);
    CHECK(ids_of_busy(h.pool) == std::vector<int>{1, 2});
    h.pool.release(a, std::move(conn), false, h.now);
    CHECK(ids_of_busy(h.pool) == std::vector<int>{2});
    CHECK(h.closed == std::vector<int>{1});
    check_invariants(h.pool);
}

TEST_CASE("pool: for_each_busy visits exactly the connections in use, reused or adopted")
{
    harness h;
    auto a1 = h.open_new(a);
    auto a2 = h.open_new(a);
    auto b1 = h.open_new(b);
    auto slot = h.pool.try_acquire(c, h.now); // reserved, no connection yet
    REQUIRE(slot.status == acquire_status::open_new);
    CHECK(ids_of_busy(h.pool) == std::vector<int>{1, 2, 3});
    h.keep(a, std::move(a1));
    CHECK(ids_of_busy(h.pool) == std::vector<int>{2, 3});
    a1 = h.reuse(a);
    CHECK(ids_of_busy(h.pool) == std::vector<int>{1, 2, 3});
    h.keep(b, std::move(b1));
    h.keep(a, std::move(a2));
    CHECK(ids_of_busy(h.pool) == std::vector<int>{1});
    CHECK(h.pool.busy() == 2); // a1, and c's slot
    check_invariants(h.pool);
}

TEST_CASE("pool: close destroys every idle connection, refuses later requests and destroys busy ones on release")
{
    harness h;
    auto a1 = h.open_new(a);
    auto a2 = h.open_new(a);
    auto b1 = h.open_new(b);
    h.keep(a, std::move(a1));
    h.keep(b, std::move(b1));
    CHECK(h.pool.idle_total() == 2);

    h.pool.close();
    CHECK(h.pool.closed());
    std::sort(h.closed.begin(), h.closed.end());
    CHECK(h.closed == std::vector<int>{1, 3});
    CHECK(h.pool.idle_total() == 0);
    CHECK(h.pool.open() == 1);
    CHECK(h.pool.origins() == 1);                      // b had nothing busy: erased
    CHECK(ids_of_busy(h.pool) == std::vector<int>{2}); // the shell closes its socket
    CHECK(h.pool.try_acquire(a, h.now).status == acquire_status::closed);
    CHECK(h.pool.try_acquire(c, h.now).status == acquire_status::closed);

    h.pool.release(a, std::move(a2), true, h.now); // reusable, but the pool is closed
    CHECK(h.closed == std::vector<int>{1, 3, 2});
    CHECK(h.pool.open() == 0);
    CHECK(h.pool.origins() == 0);
    CHECK(h.pool.registered_busy() == 0);
    check_invariants(h.pool);
}

TEST_CASE("pool: destroying the pool destroys its idle connections")
{
    std::vector<int> closed;
    {
        pool_type pool(pool_limits{});
        auto conn = std::make_unique<fake_connection>(7, closed);
        REQUIRE(pool.try_acquire(a, {}).status == acquire_status::open_new);
        pool.adopt(a, *conn);
        pool.release(a, std::move(conn), true, {});
        CHECK(closed.empty());
    }
    CHECK(closed == std::vector<int>{7});
}

TEST_CASE("pool: drop_expired destroys the expired idle connections of every origin and next_expiry says when the next expires")
{
    harness h(limits_of(10, 10, 4, 10s));
    CHECK_FALSE(h.pool.next_expiry().has_value());
    auto a1 = h.open_new(a);
    auto a2 = h.open_new(a);
    auto b1 = h.open_new(b);
    auto c1 = h.open_new(c);
    h.keep(a, std::move(a1)); // t = 0
    h.keep(b, std::move(b1));
    h.now += 4s;
    h.keep(a, std::move(a2)); // t = 4
    REQUIRE(h.pool.next_expiry().has_value());
    CHECK(*h.pool.next_expiry() == time_point{} + 10s);

    CHECK(h.pool.drop_expired(h.now + 10s - 4s - 1ns) == 0);
    h.now += 6s; // t = 10: a1 and b1 expire
    CHECK(h.pool.drop_expired(h.now) == 2);
    std::sort(h.closed.begin(), h.closed.end());
    CHECK(h.closed == std::vector<int>{1, 3});
    CHECK(h.pool.idle(a) == 1);
    CHECK(h.pool.origins() == 2); // b is gone; a is idle, c busy
    CHECK(*h.pool.next_expiry() == time_point{} + 14s);
    h.now += 4s;
    CHECK(h.pool.drop_expired(h.now) == 1);
    CHECK_FALSE(h.pool.next_expiry().has_value());
    CHECK(h.pool.origins() == 1);
    CHECK(h.pool.open() == 1);
    check_invariants(h.pool);
}

TEST_CASE("pool: next_expiry saturates instead of overflowing with an endless idle_timeout")
{
    harness h(limits_of(10, 10, 4, std::chrono::steady_clock::duration::max()));
    h.now += 1h;
    h.keep(a, h.open_new(a));
    CHECK(h.pool.next_expiry() == time_point::max());
    h.now += 1000h;
    auto again = h.reuse(a);
    CHECK(again->id == 1);
}

TEST_CASE("pool: limits of zero count as one")
{
    harness h(limits_of(0, 0, 0));
    CHECK(h.pool.limits().max_connections == 1);
    CHECK(h.pool.limits().max_connections_per_origin == 1);
    CHECK(h.pool.limits().max_handshakes == 1);
    auto conn = h.open_new(a);
    CHECK(h.status_of_try(a) == acquire_status::wait);
    CHECK(h.pool.begin_handshake().admitted);
    CHECK_FALSE(h.pool.begin_handshake().admitted);
}

TEST_CASE("pool: origins with nothing open and nothing idle are erased, however many are visited")
{
    harness h(limits_of(8, 2));
    for (int i = 0; i < 10000; ++i)
    {
        auto o = https_origin("host" + std::to_string(i) + ".example");
        auto conn = h.open_new(o);
        // Every third one is kept: the others are closed by their servers.
        h.pool.release(o, std::move(conn), i % 3 == 0, h.now);
        h.now += 1ms;
        CHECK(h.pool.origins() <= 8);
    }
    CHECK(h.pool.origins() == 8);
    CHECK(h.pool.idle_total() == 8);
    CHECK(h.closed.size() == 10000 - 8);
    h.pool.close();
    CHECK(h.pool.origins() == 0);
    CHECK(h.pool.open() == 0);
    CHECK(h.closed.size() == 10000);
}

TEST_CASE("pool: a random run of requests keeps every count right and destroys every connection exactly once")
{
    std::mt19937 random(20240611); // a fixed seed: the same run every time
    auto pick = [&](std::size_t n) { return static_cast<std::size_t>(random() % n); };
    const std::vector<origin> origins{a, b, c, https_origin("d.example"), origin{"http", "a.example", 80}};

    for (auto limits : {limits_of(6, 2, 2, 5s), limits_of(3, 3, 1, 1s), limits_of(12, 4, 3, 20s)})
    {
        CAPTURE(limits.max_connections);
        harness h(limits);
        struct held
        {
            origin to;
            connection_ptr conn; // null: a reserved slot, not made yet
        };
        std::vector<held> in_use;
        for (int step = 0; step < 5000; ++step)
        {
            auto choice = pick(10);
            if (choice < 5)
            {
                const auto& o = origins[pick(origins.size())];
                auto idle_before = h.pool.idle(o);
                auto got = h.pool.try_acquire(o, h.now);
                if (got.status == acquire_status::reused)
                    in_use.push_back({o, std::move(got.connection)});
                else if (got.status == acquire_status::open_new)
                {
                    CHECK(h.pool.idle(o) == 0); // every idle one had expired
                    in_use.push_back({o, nullptr});
                }
                else
                {
                    REQUIRE(got.status == acquire_status::wait);
                    // Only at a limit that nothing idle could lift.
                    bool origin_full = h.pool.busy(o) >= h.pool.limits().max_connections_per_origin;
                    bool all_busy = h.pool.open() >= h.pool.limits().max_connections &&
                                    h.pool.idle_total() == h.pool.idle(o);
                    CHECK((origin_full || all_busy));
                    CHECK(h.pool.idle(o) <= idle_before);
                }
            }
            else if (choice == 5 && !in_use.empty())
            {
                // The slot's connection is made.
                auto& entry = in_use[pick(in_use.size())];
                if (!entry.conn)
                {
                    entry.conn = std::make_unique<fake_connection>(h.next_id++, h.closed);
                    h.pool.adopt(entry.to, *entry.conn);
                }
            }
            else if (choice < 9 && !in_use.empty())
            {
                auto index = pick(in_use.size());
                auto entry = std::move(in_use[index]);
                in_use.erase(in_use.begin() + static_cast<std::ptrdiff_t>(index));
                if (entry.conn)
                    h.pool.release(entry.to, std::move(entry.conn), pick(4) != 0, h.now);
                else
                    h.pool.release_slot(entry.to);
            }
            else if (choice == 9)
            {
                h.now += std::chrono::milliseconds(pick(2000));
                if (pick(8) == 0)
                    h.pool.drop_expired(h.now);
            }

            CHECK(h.pool.busy() == in_use.size());
            auto made = static_cast<std::size_t>(
                std::count_if(in_use.begin(), in_use.end(), [](const held& e) { return e.conn != nullptr; }));
            CHECK(h.pool.registered_busy() == made);
            std::size_t sum = 0, with_state = 0;
            for (const auto& o : origins)
            {
                CHECK(h.pool.open(o) <= h.pool.limits().max_connections_per_origin);
                sum += h.pool.open(o);
                with_state += h.pool.open(o) > 0 ? 1 : 0;
            }
            CHECK(sum == h.pool.open());
            CHECK(h.pool.origins() == with_state);
            // Every connection made is open (busy or idle) or destroyed, exactly once.
            CHECK(static_cast<std::size_t>(h.next_id - 1) == made + h.pool.idle_total() + h.closed.size());
            check_invariants(h.pool);
        }
        for (auto& entry : in_use)
        {
            if (entry.conn)
                h.pool.release(entry.to, std::move(entry.conn), true, h.now);
            else
                h.pool.release_slot(entry.to);
        }
        CHECK(h.pool.busy() == 0);
        h.pool.close();
        CHECK(h.pool.open() == 0);
        CHECK(h.pool.origins() == 0);
        auto ids = h.closed;
        std::sort(ids.begin(), ids.end());
        CHECK(std::adjacent_find(ids.begin(), ids.end()) == ids.end());
        CHECK(static_cast<int>(ids.size()) == h.next_id - 1);
    }
}

TEST_CASE("pool: a freed handshake slot goes to the oldest queued ticket, and newcomers do not overtake the queue")
{
    pool_type pool(limits_of(10, 10, 2));
    CHECK(pool.begin_handshake().admitted);
    CHECK(pool.begin_handshake().admitted);
    auto first = pool.begin_handshake();
    auto second = pool.begin_handshake();
    REQUIRE_FALSE(first.admitted);
    REQUIRE_FALSE(second.admitted);
    CHECK_FALSE(first.ticket == second.ticket);
    CHECK(pool.handshakes_under_way() == 2);
    CHECK(pool.waiting_handshakes() == 2);
    CHECK_FALSE(pool.claim_handshake(first.ticket)); // not handed anything yet
    check_invariants(pool);

    auto handed = pool.end_handshake();
    REQUIRE(handed.has_value());
    CHECK(*handed == first.ticket);
    CHECK(pool.handshakes_under_way() == 2); // handed over, not freed
    CHECK(pool.waiting_handshakes() == 1);
    CHECK(pool.handed_handshakes() == 1);

    // A newcomer while the handed waiter has not woken yet: no free slot for it.
    auto newcomer = pool.begin_handshake();
    CHECK_FALSE(newcomer.admitted);
    check_invariants(pool);

    CHECK(pool.claim_handshake(first.ticket));
    CHECK_FALSE(pool.claim_handshake(first.ticket)); // once only
    CHECK(pool.handed_handshakes() == 0);
    CHECK(pool.handshakes_under_way() == 2);

    handed = pool.end_handshake();
    REQUIRE(handed.has_value());
    CHECK(*handed == second.ticket);
    CHECK(pool.claim_handshake(second.ticket));
    handed = pool.end_handshake();
    REQUIRE(handed.has_value());
    CHECK(*handed == newcomer.ticket);
    CHECK(pool.claim_handshake(newcomer.ticket));
    check_invariants(pool);

    CHECK_FALSE(pool.end_handshake().has_value());
    CHECK_FALSE(pool.end_handshake().has_value());
    CHECK(pool.handshakes_under_way() == 0);
    CHECK(pool.waiting_handshakes() == 0);
    CHECK(pool.begin_handshake().admitted); // free again, nobody queued
    check_invariants(pool);
}

TEST_CASE("pool: abandoning a ticket that was handed a slot passes the slot on to the next ticket, or frees it")
{
    pool_type pool(limits_of(10, 10, 1));
    REQUIRE(pool.begin_handshake().admitted);
    auto first = pool.begin_handshake();
    auto second = pool.begin_handshake();

    // The first waiter is handed the slot, but times out before it runs.
    auto handed = pool.end_handshake();
    REQUIRE(handed.has_value());
    CHECK(*handed == first.ticket);
    handed = pool.abandon_handshake(first.ticket);
    REQUIRE(handed.has_value());
    CHECK(*handed == second.ticket);
    CHECK(pool.handshakes_under_way() == 1);
    CHECK(pool.waiting_handshakes() == 0);
    CHECK_FALSE(pool.claim_handshake(first.ticket)); // spent
    CHECK_FALSE(pool.abandon_handshake(first.ticket).has_value());
    check_invariants(pool);

    // The second is cancelled too: nobody is left, so the slot is freed.
    CHECK_FALSE(pool.abandon_handshake(second.ticket).has_value());
    CHECK(pool.handshakes_under_way() == 0);
    CHECK(pool.handed_handshakes() == 0);
    CHECK_FALSE(pool.abandon_handshake(second.ticket).has_value()); // twice: nothing more freed
    CHECK(pool.handshakes_under_way() == 0);
    check_invariants(pool);
}

TEST_CASE("pool: abandoning a queued ticket only leaves the queue")
{
    pool_type pool(limits_of(10, 10, 1));
    REQUIRE(pool.begin_handshake().admitted);
    auto first = pool.begin_handshake();
    auto second = pool.begin_handshake();
    auto third = pool.begin_handshake();

    CHECK_FALSE(pool.abandon_handshake(second.ticket).has_value());
    CHECK(pool.waiting_handshakes() == 2);
    CHECK(pool.handshakes_under_way() == 1);
    CHECK_FALSE(pool.claim_handshake(second.ticket));
    check_invariants(pool);

    auto handed = pool.end_handshake();
    REQUIRE(handed.has_value());
    CHECK(*handed == first.ticket);
    CHECK(pool.claim_handshake(first.ticket));
    CHECK(pool.abandon_handshake(first.ticket) == std::nullopt); // claimed: the holder ends it instead
    CHECK(pool.handshakes_under_way() == 1);
    handed = pool.end_handshake();
    REQUIRE(handed.has_value());
    CHECK(*handed == third.ticket); // the abandoned one is skipped
    CHECK(pool.claim_handshake(third.ticket));
    CHECK_FALSE(pool.end_handshake().has_value());
    CHECK(pool.handshakes_under_way() == 0);
    check_invariants(pool);
}

TEST_CASE("pool: handshake slots never exceed max_handshakes and never leak, whatever order wake-ups, timeouts and cancellations come in")
{
    std::mt19937 random(77); // a fixed seed: the same run every time
    auto pick = [&](std::size_t n) { return static_cast<std::size_t>(random() % n); };

    for (std::size_t max : {1u, 2u, 5u})
    {
        CAPTURE(max);
        pool_type pool(limits_of(10, 10, max));
        std::size_t holders = 0;                // slots held by admitted or claimed callers
        std::vector<handshake_ticket> waiting;  // tickets whose waiters still wait, oldest first
        std::vector<handshake_ticket> expected; // the order slots must be handed in
        std::size_t next_expected = 0;
        auto handed_to = [&](std::optional<handshake_ticket> handed)
        {
            if (!handed)
                return;
            // FIFO: the oldest ticket still queued, skipping those that left.
            while (next_expected < expected.size() &&
                   std::find(waiting.begin(), waiting.end(), expected[next_expected]) == waiting.end())
                ++next_expected;
            REQUIRE(next_expected < expected.size());
            CHECK(*handed == expected[next_expected]);
            ++next_expected;
        };

        for (int step = 0; step < 5000; ++step)
        {
            auto choice = pick(6);
            if (choice == 0 || choice == 1)
            {
                auto admission = pool.begin_handshake();
                if (admission.admitted)
                    ++holders;
                else
                {
                    waiting.push_back(admission.ticket);
                    expected.push_back(admission.ticket);
                }
            }
            else if (choice == 2 && holders > 0)
            {
                --holders;
                handed_to(pool.end_handshake());
            }
            else if ((choice == 3 || choice == 4) && !waiting.empty())
            {
                // A waiter wakes, for any reason: it claims first, then waits again or gives up.
                auto index = pick(waiting.size());
                auto ticket = waiting[index];
                if (pool.claim_handshake(ticket))
                {
                    ++holders;
                    waiting.erase(waiting.begin() + static_cast<std::ptrdiff_t>(index));
                }
                else if (choice == 4)
                {
                    waiting.erase(waiting.begin() + static_cast<std::ptrdiff_t>(index));
                    handed_to(pool.abandon_handshake(ticket));
                }
            }
            else if (choice == 5 && !waiting.empty())
            {
                // A waiter gives up without claiming: a handed slot must pass on all the same.
                auto index = pick(waiting.size());
                auto ticket = waiting[index];
                waiting.erase(waiting.begin() + static_cast<std::ptrdiff_t>(index));
                handed_to(pool.abandon_handshake(ticket));
            }

            CHECK(pool.handshakes_under_way() == holders + pool.handed_handshakes());
            CHECK(pool.waiting_handshakes() + pool.handed_handshakes() == waiting.size());
            check_invariants(pool);
        }

        // Everyone finishes or gives up: nothing is left held or queued.
        while (holders > 0 || !waiting.empty())
        {
            if (holders > 0)
            {
                --holders;
                handed_to(pool.end_handshake());
            }
            for (std::size_t i = 0; i < waiting.size();)
            {
                if (pool.claim_handshake(waiting[i]))
                {
                    ++holders;
                    waiting.erase(waiting.begin() + static_cast<std::ptrdiff_t>(i));
                }
                else
                    ++i;
            }
            if (holders == 0 && !waiting.empty())
            {
                auto ticket = waiting.front();
                waiting.erase(waiting.begin());
                handed_to(pool.abandon_handshake(ticket));
            }
            check_invariants(pool);
        }
        CHECK(pool.handshakes_under_way() == 0);
        CHECK(pool.waiting_handshakes() == 0);
        CHECK(pool.handed_handshakes() == 0);
    }
}
