#pragma once

// Deadlines from durations that may be huge: `duration::max()` as "no limit" must not overflow
// the clock (a signed count) into a deadline in the past.

#include <chrono>

namespace fxrates::detail {

/// `from + length`, or the clock's last time point if that does not fit.
inline std::chrono::steady_clock::time_point deadline_after(std::chrono::steady_clock::duration length,
                                                            std::chrono::steady_clock::time_point from =
                                                                std::chrono::steady_clock::now())
{
    if (length <= std::chrono::steady_clock::duration::zero())
        return from;
    if (from.time_since_epoch() > std::chrono::steady_clock::duration::max() - length)
        return std::chrono::steady_clock::time_point::max();
    return from + length;
}

} // namespace fxrates::detail
