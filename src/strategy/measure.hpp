#pragma once

// What a strategy run costs, read from the operating system.

#include <algorithm>
#include <bit>
#include <cstddef>

namespace fxrates::detail {

/// User + system CPU seconds of this process so far; with `children`, also of its waited-for
/// child processes.
double cpu_seconds(bool children = false);

/// Threads of this process now (from /proc/self/status).
std::size_t thread_count();

/// Raises `peak` to the threads alive now when `done` of `total` steps are over, at steps 1, 2, 4,
/// 8, ... and the last: often enough to see threads that start late (Asio starts a client's
/// resolver thread at its first lookup), seldom enough to cost nothing (a reading is ~20 us).
inline void sample_threads(std::size_t& peak, std::size_t done, std::size_t total)
{
    if (std::has_single_bit(done) || done == total)
        peak = std::max(peak, thread_count());
}

/// Peak resident set of this process in KiB.
long peak_rss_kib();

} // namespace fxrates::detail
