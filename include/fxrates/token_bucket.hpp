#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

namespace fxrates {

/// A token bucket, sans-io: `rate` tokens per second flow in, at most `capacity` are kept, and a
/// request for `n` tokens is either granted (and takes them) or told how long to wait.
///
/// It starts **empty** (no burst at start) and never holds more than `capacity`. Time is passed in
/// by the caller, so tests drive it with a manual clock.
///
/// The state is one time point, the moment the bucket was (or will be) empty, rather than a
/// fractional token count: with integer durations, R = 10 grants at exactly 0.1, 0.2, ... s.
///
/// Thread safety: none; see `blocking_throttle` and `basic_throttle` for shared use.
template <class Clock = std::chrono::steady_clock>
class token_bucket
{
public:
    using clock = Clock;
    using time_point = typename Clock::time_point;
    using duration = typename Clock::duration;

    /// What `try_acquire` decided.
    struct decision
    {
        bool granted;
        /// When not granted: how long until the tokens will be there (if nobody else takes them).
        duration wait;
    };

    /// `rate` tokens per second (> 0); `capacity` tokens at most (>= 1; default: one second's worth,
    /// at least 1). The bucket starts empty at `now`.
    token_bucket(double rate, double capacity, time_point now) : empty_at_(now)
    {
        if (!(rate > 0) || !std::isfinite(rate))
            throw std::invalid_argument("the rate must be a positive number of tokens per second");
        if (capacity == 0)
            capacity = std::max(1.0, rate);
        if (!(capacity >= 1) || !std::isfinite(capacity))
            throw std::invalid_argument("the capacity must be at least one token");
        // Spans beyond a century are refused: converting them, or adding them to a time point,
        // could overflow the clock's integer arithmetic.
        constexpr double longest = std::chrono::duration<double>(std::chrono::hours(24 * 365 * 100)).count();
        if (1.0 / rate > longest)
            throw std::invalid_argument("the rate is too low: one token would take more than a century");
        if (capacity / rate > longest)
            throw std::invalid_argument("the capacity is too large: filling it would take more than a century");
        interval_ = std::chrono::duration_cast<duration>(std::chrono::duration<double>(1.0 / rate));
        if (interval_ <= duration::zero())
            interval_ = duration(1);
        capacity_ = std::chrono::duration_cast<duration>(interval_ * capacity);
    }

    token_bucket(double rate, time_point now) : token_bucket(rate, 0, now) {}

    /// Takes `n` tokens if they are there at `now`; otherwise says how long to wait for them.
    /// Throws `std::invalid_argument` if `n` is more than the bucket ever holds.
    decision try_acquire(unsigned n, time_point now)
    {
        if (!can_ever_grant(n))
            throw std::invalid_argument("a request for more tokens than the bucket's capacity can never be granted");
        time_point ready = ready_at(n, now);
        if (ready <= now)
        {
            empty_at_ = ready;
            return {true, duration::zero()};
        }
        if (ready == time_point::max())
            return {false, duration::max()}; // paused for ever
        return {false, ready - now};
    }

    /// False if `n` is more tokens than the bucket ever holds.
    bool can_ever_grant(unsigned n) const noexcept
    {
        return static_cast<typename duration::rep>(n) <= capacity_.count() / interval_.count();
    }

    /// When `n` tokens will be there, if nobody else takes any; `time_point::max()` for never.
    time_point ready_at(unsigned n, time_point now) const
    {
        if (!can_ever_grant(n))
            return time_point::max();
        // A bucket idle for long is full, not fuller: that is the clamp to `now - capacity`.
        time_point full_since = now < time_point::min() + capacity_ ? time_point::min() : now - capacity_;
        time_point base = std::max(empty_at_, full_since);
        duration needed = interval_ * static_cast<typename duration::rep>(n); // at most the capacity
        return base > time_point::max() - needed ? time_point::max() : base + needed;
    }

    /// Takes `n` tokens at the time they will be there (`now` or later) and returns that time, for
    /// a caller that schedules its work rather than waiting on the bucket (one timer per request):
    /// later calls queue behind it, so that callers go in the order they asked. Throws
    /// `std::invalid_argument` if `n` is more than the bucket ever holds.
    time_point reserve(unsigned n, time_point now)
    {
        if (!can_ever_grant(n))
            throw std::invalid_argument("a request for more tokens than the bucket's capacity can never be granted");
        time_point ready = std::max(ready_at(n, now), now);
        if (ready != time_point::max())
            empty_at_ = ready;
        return ready;
    }

    /// No tokens before `until`, and the first one then (e.g. the server said Retry-After).
    void pause_until(time_point until)
    {
        if (until < time_point::min() + interval_)
            return; // ended before any time the clock can tell
        empty_at_ = std::max(empty_at_, until - interval_);
    }

    /// Ends a pause early: the bucket is empty at `now` and refills from there.
    void resume(time_point now) { empty_at_ = std::min(empty_at_, now); }

    /// The time one token takes to flow in.
    duration interval() const noexcept { return interval_; }

private:
    time_point empty_at_;
    duration interval_{};
    duration capacity_{};
};

} // namespace fxrates
