#pragma once

// Virtual time for tests: a clock that moves only when the test says so, and wait traits that
// make Asio timers on it check their expiry at every poll instead of sleeping.

#include <boost/asio/basic_waitable_timer.hpp>

#include <chrono>

namespace fxrates::test {

struct manual_clock
{
    using duration = std::chrono::nanoseconds;
    using rep = duration::rep;
    using period = duration::period;
    using time_point = std::chrono::time_point<manual_clock>;
    static constexpr bool is_steady = true;

    static time_point now() noexcept { return current; }
    static void advance(duration by) noexcept { current += by; }
    static void reset() noexcept { current = time_point{}; }

    inline static time_point current{};
};

struct manual_wait_traits
{
    static manual_clock::duration to_wait_duration(const manual_clock::duration&) { return {}; }
    static manual_clock::duration to_wait_duration(const manual_clock::time_point&) { return {}; }
};

} // namespace fxrates::test
