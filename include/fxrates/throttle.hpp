#pragma once

#include <fxrates/error.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/wait_traits.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace fxrates {

class shared_pace;

/// An asynchronous rate limiter: a token bucket (`rate` per second, at most `burst` stored,
/// starting empty) whose waiters are served in FIFO order.
///
/// One timer per throttle wakes the waiter at the head of the queue exactly when its tokens are
/// there: no polling, at most one timer wake-up per grant.
///
/// Completion: `void(error_code)`; success once the tokens are taken, `operation_aborted` if the
/// wait was cancelled or the throttle closed. Handlers run on their associated executor, never
/// inside `async_acquire`.
///
/// Cancellation: every wait honours its handler's cancellation slot (terminal, partial and
/// total): a cancelled waiter takes no token and leaves the queue.
///
/// Thread safety: none; the executor must not run handlers concurrently.
///
/// `Clock` (with `WaitTraits`) is a template parameter so that tests run it on virtual time; the
/// implementation is compiled for `std::chrono::steady_clock` (the `throttle` alias).
template <class Clock = std::chrono::steady_clock, class WaitTraits = boost::asio::wait_traits<Clock>>
class basic_throttle
{
public:
    using clock = Clock;
    using time_point = typename Clock::time_point;
    using duration = typename Clock::duration;

    /// `rate` tokens per second (> 0) and at most `burst` stored (0: one second's worth). Throws
    /// `std::invalid_argument` for a rate or burst out of range.
    basic_throttle(boost::asio::any_io_executor executor, double rate, double burst = 0);

    /// Takes its turns from `pace`, with every other throttle that shares it (on any thread), as
    /// `origin`'s requests: see `shared_pace`. A cancelled waiter's turns are lost to the others.
    basic_throttle(boost::asio::any_io_executor executor, std::shared_ptr<shared_pace> pace,
                   std::string origin);

    /// Closes the throttle: pending waits complete with `operation_aborted`.
    ~basic_throttle();

    basic_throttle(const basic_throttle&) = delete;
    basic_throttle& operator=(const basic_throttle&) = delete;

    /// Waits for `n` tokens (at most the burst), behind every earlier waiter.
    template <boost::asio::completion_token_for<void(error_code)> CompletionToken = boost::asio::deferred_t>
    auto async_acquire(unsigned n = 1, CompletionToken&& token = CompletionToken{})
    {
        return boost::asio::async_initiate<CompletionToken, void(error_code)>(
            [this](auto handler, unsigned n) { acquire_impl(n, std::move(handler)); }, token, n);
    }

    /// No grants before `until`; the next one is at `until` (e.g. a server's Retry-After). Shared
    /// by every waiter: they all wait together instead of each sleeping on its own.
    void pause_until(time_point until);

    /// Changes the rate and burst, e.g. to the limit a server announced; the bucket starts empty
    /// again, and waiters keep their places. Throws `std::invalid_argument` as the constructor does.
    void set_rate(double rate, double burst = 0);

    /// Completes every pending wait with `operation_aborted`; later waits fail the same way.
    void close();

    /// Waiters in the queue.
    std::size_t waiting() const noexcept;

    /// Times the timer woke the queue (for benchmarks: about one per grant that had to wait).
    std::uint64_t wakeups() const noexcept;

    boost::asio::any_io_executor get_executor() const noexcept;

private:
    void acquire_impl(unsigned n, boost::asio::any_completion_handler<void(error_code)> handler);

    struct impl;
    std::shared_ptr<impl> impl_;
};

/// The throttle on the steady clock.
using throttle = basic_throttle<>;

extern template class basic_throttle<std::chrono::steady_clock>;

} // namespace fxrates
