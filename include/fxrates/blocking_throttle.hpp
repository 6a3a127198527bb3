#pragma once

#include <fxrates/token_bucket.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

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
    bool acquire(unsigned n = 1)
    {
        std::unique_lock lock(mutex_);
        if (!bucket_.can_ever_grant(n))
            throw std::invalid_argument("a request for more tokens than the burst can never be granted");
        const std::uint64_t ticket = next_ticket_++;
        turn_.wait(lock, [&] { return closed_ || now_serving_ == ticket; });
        while (!closed_)
        {
            auto decision = bucket_.try_acquire(n, Clock::now());
            if (decision.granted)
                break;
            // Capped so that the standard library's `now() + wait` cannot overflow (a pause can
            // last for ever); a wait that long just looks at the bucket again after an hour.
            turn_.wait_for(lock, std::min<typename Clock::duration>(decision.wait, std::chrono::hours(1)));
        }
        ++now_serving_;
        turn_.notify_all(); // the next ticket's turn
        return !closed_;
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
        return static_cast<std::size_t>(next_ticket_ - now_serving_);
    }

    /// Wakes every waiter; `acquire` returns false from now on.
    void close()
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
        turn_.notify_all();
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable turn_;
    token_bucket<Clock> bucket_;
    std::uint64_t next_ticket_ = 0;
    std::uint64_t now_serving_ = 0;
    bool closed_ = false;
};

using blocking_throttle = basic_blocking_throttle<>;

} // namespace fxrates
