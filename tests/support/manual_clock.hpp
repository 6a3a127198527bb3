#pragma once

// Virtual time for tests: a clock that moves only when the test says so, and wait traits that
// make Asio timers on it check their expiry at every poll instead of sleeping.

#include <boost/asio/basic_waitable_timer.hpp>

#include <atomic>
#include <chrono>

namespace fxrates::test {

struct manual_clock
{
    using duration = std::chrono::nanoseconds;
    using rep = duration::rep;
    using period = duration::period;
    using time_point = std::chrono::time_point<manual_clock>;
    static constexpr bool is_steady = true;

    static time_point now() noexcept { return time_point(duration(ticks.load())); }
    static void advance(duration by) noexcept { ticks.fetch_add(by.count()); }
    static void reset() noexcept { ticks.store(0); }

    // Atomic, so that threads may read it while the test moves it (the blocking throttle's tests).
    inline static std::atomic<rep> ticks{0};
};

struct manual_wait_traits
{
    static manual_clock::duration to_wait_duration(const manual_clock::duration&) { return {}; }
    static manual_clock::duration to_wait_duration(const manual_clock::time_point&) { return {}; }
};

} // namespace fxrates::test
