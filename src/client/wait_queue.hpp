#pragma once

// Coroutines waiting, in order, for something another coroutine makes happen (a free connection,
// a handshake slot, a session ticket, a host's addresses), each with its own deadline: an async
// condition variable for one executor. Each waiter's timer is both its deadline and its wake-up
// (cancelled to wake it), so one waiter's deadline never wakes another and nothing polls.
//
// Like a condition variable it stores no wake-ups: a waiter re-checks its condition after waking.
// Not thread-safe: every call is made on the executor the waiters run on.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <deque>

namespace fxrates::detail {

class wait_queue
{
public:
    using clock_type = std::chrono::steady_clock;

    enum class wake_reason
    {
        notified,  // notify_one or notify_all
        timed_out, // the deadline passed first
        cancelled, // the waiting coroutine was cancelled
    };

    wait_queue() = default;
    wait_queue(const wait_queue&) = delete;
    wait_queue& operator=(const wait_queue&) = delete;

    /// Where a waiter joins the queue: behind everyone, or (a waiter that was woken but found its
    /// turn taken after all) ahead of everyone, so that it keeps its place.
    enum class place
    {
        back,
        front,
    };

    /// Waits in the queue until notified or `deadline`, whichever comes first. A deadline already
    /// past still yields to the executor once, then reports `timed_out` (unless a notification
    /// came in between). A coroutine already cancelled does not wait; one cancelled while it
    /// waits reports `cancelled` unless it was notified first: a notified waiter must pass on
    /// whatever the notification gave it.
    boost::asio::awaitable<wake_reason> wait(boost::asio::any_io_executor executor,
                                             clock_type::time_point deadline, place where = place::back)
    {
        auto cancellation = co_await boost::asio::this_coro::cancellation_state;
        if (cancellation.cancelled() != boost::asio::cancellation_type::none)
            co_return wake_reason::cancelled;
        waiter self(boost::asio::steady_timer(std::move(executor), deadline), waiters_, where);
        co_await self.timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        if (self.notified)
            co_return wake_reason::notified;
        // The timer's own result misses a cancellation that came after it expired.
        co_return cancellation.cancelled() != boost::asio::cancellation_type::none ? wake_reason::cancelled
                                                                                   : wake_reason::timed_out;
    }

    /// Wakes the longest waiter, if any.
    void notify_one()
    {
        if (!waiters_.empty())
            wake(*waiters_.front());
    }

    /// Wakes every waiter.
    void notify_all()
    {
        while (!waiters_.empty())
            wake(*waiters_.front());
    }

    bool empty() const noexcept { return waiters_.empty(); }
    std::size_t size() const noexcept { return waiters_.size(); }

private:
    struct waiter
    {
        waiter(boost::asio::steady_timer t, std::deque<waiter*>& q, place where)
            : timer(std::move(t)), queue(q)
        {
            if (where == place::front)
                queue.push_front(this);
            else
                queue.push_back(this);
        }
        waiter(const waiter&) = delete;
        waiter& operator=(const waiter&) = delete;
        // Leaving by timeout or cancellation, or a coroutine frame destroyed without resuming
        // (its io_context gone): never a dangling pointer in the queue.
        ~waiter()
        {
            if (!notified)
                queue.erase(std::find(queue.begin(), queue.end(), this));
        }

        boost::asio::steady_timer timer;
        std::deque<waiter*>& queue;
        bool notified = false;
    };

    static void wake(waiter& w)
    {
        w.queue.pop_front(); // only the front is ever woken
        w.notified = true;
        w.timer.cancel();
    }

    std::deque<waiter*> waiters_;
};

} // namespace fxrates::detail
