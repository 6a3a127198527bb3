#pragma once

// What a strategy run costs, read from the operating system.

#include <cstddef>

namespace fxrates::detail {

/// User + system CPU seconds of this process so far; with `children`, also of its waited-for
/// child processes.
double cpu_seconds(bool children = false);

/// Threads of this process now (from /proc/self/status).
std::size_t thread_count();

/// Peak resident set of this process in KiB.
long peak_rss_kib();

} // namespace fxrates::detail
