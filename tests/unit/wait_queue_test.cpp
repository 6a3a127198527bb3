// The async wait queue behind the transport's connection and handshake slots, its shared host
// lookup and its session cache. Deadlines here are either long past or an hour away, so nothing
// depends on how fast the machine is: a test only polls the io_context.

#include "client/wait_queue.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <doctest/doctest.h>

#include <optional>
#include <vector>

namespace asio = boost::asio;
using fxrates::detail::wait_queue;
using reason = wait_queue::wake_reason;
using namespace std::chrono_literals;

namespace {

const auto never = wait_queue::clock_type::now() + 1h;
const auto long_ago = wait_queue::clock_type::now() - 1h;

struct woken
{
    int id;
    reason why;
};

asio::awaitable<void> wait_and_record(wait_queue& queue, wait_queue::clock_type::time_point deadline, int id,
                                      std::vector<woken>& log,
                                      wait_queue::place where = wait_queue::place::back)
{
    co_await asio::this_coro::throw_if_cancelled(false); // as the client's coroutines do
    auto why = co_await queue.wait(co_await asio::this_coro::executor, deadline, where);
    log.push_back({id, why});
}

// A loop, a queue and the log of who woke, in what order and why.
struct fixture
{
    // Starts waiter `id`, to be woken by a notification, its deadline or `slot`'s cancellation.
    void start(wait_queue::clock_type::time_point deadline, int id, asio::cancellation_slot slot = {},
               wait_queue::place where = wait_queue::place::back)
    {
        asio::co_spawn(context, wait_and_record(queue, deadline, id, log, where),
                       asio::bind_cancellation_slot(slot, asio::detached));
    }

    void notify_one_and_run()
    {
        queue.notify_one();
        context.poll();
    }

    asio::io_context context;
    wait_queue queue;
    std::vector<woken> log;
};

} // namespace

TEST_CASE_FIXTURE(fixture, "notify_one wakes the waiters one at a time, longest waiting first")
{
    for (int id = 0; id < 3; ++id)
        start(never, id);
    context.poll();
    REQUIRE(queue.size() == 3);
    CHECK(log.empty());

    notify_one_and_run();
    REQUIRE(log.size() == 1);
    CHECK(log[0].id == 0);
    CHECK(log[0].why == reason::notified);
    CHECK(queue.size() == 2);

    queue.notify_one();
    queue.notify_one();
    context.poll();
    REQUIRE(log.size() == 3);
    CHECK(log[1].id == 1);
    CHECK(log[2].id == 2);
    CHECK(log[2].why == reason::notified);
    CHECK(queue.empty());
}

TEST_CASE_FIXTURE(fixture, "a waiter that keeps its place joins at the front and is woken first")
{
    start(never, 0);
    start(never, 1);
    context.poll();
    start(never, 2, {}, wait_queue::place::front); // woken once, its turn taken: it waits again, first
    context.poll();
    REQUIRE(queue.size() == 3);
    for (int i = 0; i < 3; ++i)
        notify_one_and_run();
    REQUIRE(log.size() == 3);
    CHECK(log[0].id == 2);
    CHECK(log[1].id == 0);
    CHECK(log[2].id == 1);
}

TEST_CASE_FIXTURE(fixture, "notify_all wakes every waiter; a notification with nobody waiting is not kept")
{
    queue.notify_one(); // stores nothing: like a condition variable
    queue.notify_all();
    for (int id = 0; id < 4; ++id)
        start(never, id);
    context.poll();
    CHECK(log.empty());
    queue.notify_all();
    context.poll();
    REQUIRE(log.size() == 4);
    for (const auto& w : log)
        CHECK(w.why == reason::notified);
    CHECK(queue.empty());
}

TEST_CASE_FIXTURE(fixture, "a waiter whose deadline has passed times out and leaves the queue; the others stay in order")
{
    start(never, 0);
    start(long_ago, 1);
    start(never, 2);
    context.poll();
    REQUIRE(log.size() == 1);
    CHECK(log[0].id == 1);
    CHECK(log[0].why == reason::timed_out);
    CHECK(queue.size() == 2);

    notify_one_and_run();
    REQUIRE(log.size() == 2);
    CHECK(log[1].id == 0);
    notify_one_and_run();
    REQUIRE(log.size() == 3);
    CHECK(log[2].id == 2);
}

TEST_CASE_FIXTURE(fixture, "a cancelled waiter reports it and leaves the queue; the next notification goes to the next waiter")
{
    asio::cancellation_signal cancel_first;
    start(never, 0, cancel_first.slot());
    start(never, 1);
    context.poll();
    REQUIRE(queue.size() == 2);

    cancel_first.emit(asio::cancellation_type::terminal);
    context.poll();
    REQUIRE(log.size() == 1);
    CHECK(log[0].id == 0);
    CHECK(log[0].why == reason::cancelled);
    CHECK(queue.size() == 1);

    notify_one_and_run();
    REQUIRE(log.size() == 2);
    CHECK(log[1].id == 1);
    CHECK(log[1].why == reason::notified);
}

asio::awaitable<void> notify_at(wait_queue& queue, wait_queue::clock_type::time_point when)
{
    asio::steady_timer timer(co_await asio::this_coro::executor, when);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    queue.notify_one();
}

TEST_CASE_FIXTURE(fixture, "a notification that meets an expired deadline is not lost: the waiter reports it")
{
    start(long_ago, 0);
    // The notifier's timer expired even earlier: both complete in the same turn of the loop, the
    // notifier's first, while the waiter's own expiry is already queued.
    asio::co_spawn(context, notify_at(queue, long_ago - 1s), asio::detached);
    context.poll();
    REQUIRE(log.size() == 1);
    CHECK(log[0].why == reason::notified); // the notifier counted on this waiter
    CHECK(queue.empty());
}

TEST_CASE_FIXTURE(fixture, "a coroutine already cancelled does not wait")
{
    asio::cancellation_signal cancel;
    cancel.emit(asio::cancellation_type::terminal); // nothing attached yet: no effect
    start(never, 0, cancel.slot());
    // Cancel before the coroutine has run at all.
    cancel.emit(asio::cancellation_type::terminal);
    context.poll();
    REQUIRE(log.size() == 1);
    CHECK(log[0].why == reason::cancelled);
    CHECK(queue.empty());
}

TEST_CASE("a waiter whose io_context is destroyed leaves no dangling entry in the queue")
{
    wait_queue queue; // outlives the io_context, as the transport's queues outlive a stopped loop's frames
    std::vector<woken> log;
    {
        asio::io_context context;
        asio::co_spawn(context, wait_and_record(queue, never, 0, log), asio::detached);
        asio::co_spawn(context, wait_and_record(queue, never, 1, log), asio::detached);
        context.poll();
        REQUIRE(queue.size() == 2);
    }
    CHECK(queue.empty());
    CHECK(log.empty());
    queue.notify_all(); // touches nothing freed (ASan would say)
}
