// Deadlines from durations, with "no limit" (duration::max()) not overflowing into the past.

#include "client/deadline.hpp"

#include <doctest/doctest.h>

using fxrates::detail::deadline_after;
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

TEST_CASE("a deadline is the start plus the length, saturating at the clock's end")
{
    auto start = clock_type::time_point(1h); // a fixed time point: no wall clock
    CHECK(deadline_after(250ms, start) == start + 250ms);
    CHECK(deadline_after(clock_type::duration::zero(), start) == start);
    CHECK(deadline_after(-5s, start) == start);
    CHECK(deadline_after(clock_type::duration::max(), start) == clock_type::time_point::max());
    CHECK(deadline_after(clock_type::duration::max() - 30min, start) == clock_type::time_point::max());
    CHECK(deadline_after(clock_type::duration::max() - 1h, start) == clock_type::time_point::max());
}
