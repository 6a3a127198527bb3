#pragma once

#include <fxrates/token_bucket.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>
#include <stdexcept>

namespace fxrates {

/// The token bucket shared by threads (the threaded strategies' throttle): `acquire` blocks until
/// the tokens are there, in FIFO order of arrival.
///
/// Threads sleep on a condition variable for exactly as long as the bucket says, and are woken
/// early only by `pause_until` or `close`: no polling (the book's version polls every 100 ms).
///
/// Thread safety: every member may be called from any thread.
template <class Clock = std::chrono::steady_clock>
class basic_blocking_throttle
{
public:
    using time_point = typename Clock::time_point;

    /// `rate` tokens per second (> 0), at most `burst` stored (0: one second's worth).
    explicit basic_blocking_throttle(double rate, double burst = 0) : bucket_(rate, burst, Clock::now()) {}

    /// Blocks until `n` tokens are taken (true) or the throttle is closed (false). Throws
    /// `std::invalid_argument` if `n` is more than the burst.
    bool acquire(unsigned n = 1) { return acquire_until(time_point::max(), n) == acquire_result::granted; }

    enum class acquire_result
    {
        granted,
        closed,
        timed_out, // no tokens taken; the thread's place in the queue went to the next one
    };

    /// As `acquire`, but gives up at `deadline`.
    acquire_result acquire_until(time_point deadline, unsigned n = 1)
    {
        std::unique_lock lock(mutex_);
        if (!bucket_.can_ever_grant(n))
            throw std::invalid_argument("a request for more tokens than the burst can never be granted");
        const std::uint64_t ticket = next_ticket_++;
        return serve(lock, ticket, deadline, n);
    }

    /// No grants before `until`; the next one is at `until`.
    void pause_until(time_point until)
    {
        std::lock_guard lock(mutex_);
        bucket_.pause_until(until);
        turn_.notify_all();
    }

    /// Ends any pause at once: the bucket refills from now, as if just emptied.
    void resume()
    {
        std::lock_guard lock(mutex_);
        bucket_.resume(Clock::now());
        turn_.notify_all();
    }

    /// Threads inside `acquire` (holding a ticket, not yet served).
    std::size_t waiting() const
    {
        std::lock_guard lock(mutex_);
        // Every ticket not yet served belongs to a waiting thread, or to one that gave up.
        return static_cast<std::size_t>(next_ticket_ - now_serving_) - left_queue_.size();
    }

    /// Wakes every waiter; `acquire` returns false from now on.
    void close()
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
        turn_.notify_all();
    }

private:
    using duration = typename Clock::duration;

    acquire_result serve(std::unique_lock<std::mutex>& lock, std::uint64_t ticket, time_point deadline, unsigned n)
    {
        // Tickets are served in order; a thread that gives up before its turn leaves its ticket
        // behind, to be skipped.
        while (now_serving_ != ticket)
        {
            if (closed_ || Clock::now() >= deadline)
            {
                left_queue_.insert(ticket);
                return closed_ ? acquire_result::closed : acquire_result::timed_out;
            }
            sleep(lock, duration::max(), deadline);
        }
        auto result = acquire_result::timed_out;
        for (;;)
        {
            if (closed_)
            {
                result = acquire_result::closed;
                break;
            }
            auto now = Clock::now();
            auto decision = bucket_.try_acquire(n, now);
            if (decision.granted)
            {
                result = acquire_result::granted;
                break;
            }
            if (now >= deadline)
                break;
            sleep(lock, decision.wait, deadline);
        }
        pass_turn(); // taken or not, the next ticket's turn
        return result;
    }

    void pass_turn()
    {
        ++now_serving_;
        while (left_queue_.erase(now_serving_) != 0)
            ++now_serving_;
        turn_.notify_all();
    }

    // Waits for a notification, or for `wait` or until `deadline` if sooner; never longer than an
    // hour at a time, so that the library's `now() + wait` cannot overflow (a pause can last for
    // ever): a wait that long just looks again.
    void sleep(std::unique_lock<std::mutex>& lock, duration wait, time_point deadline)
    {
        auto now = Clock::now();
        duration until_deadline = deadline == time_point::max() ? duration::max() : deadline - now;
        turn_.wait_for(lock, std::min({wait, until_deadline, duration(std::chrono::hours(1))}));
    }

    mutable std::mutex mutex_;
    std::condition_variable turn_;
    token_bucket<Clock> bucket_;
    std::uint64_t next_ticket_ = 0;
    std::uint64_t now_serving_ = 0;
    std::set<std::uint64_t> left_queue_; // tickets whose threads gave up before their turn
    bool closed_ = false;
};

using blocking_throttle = basic_blocking_throttle<>;

} // namespace fxrates
