#pragma once

// What a strategy run costs, read from the operating system.

#include <sys/types.h>

#include <atomic>
#include <cstddef>

namespace fxrates::detail {

/// User + system CPU seconds of this process so far; with `children`, also of its waited-for
/// child processes.
double cpu_seconds(bool children = false);

/// Threads of this process now (from /proc/self/status).
std::size_t thread_count();

/// Threads of process `pid` now; 0 if it has ended.
std::size_t thread_count_of(pid_t pid);

/// The most threads seen alive at once, sampled from any thread. A worker samples once its own
/// threads have started (after its first request: Asio starts a client's resolver thread at its
/// first lookup), while the others are still running; a reading costs ~20 us.
class thread_peak
{
public:
    explicit thread_peak(std::size_t start = 0) : most_(start) {}

    void sample()
    {
        auto now = thread_count();
        auto seen = most_.load(std::memory_order_relaxed);
        while (now > seen && !most_.compare_exchange_weak(seen, now, std::memory_order_relaxed))
        {
        }
    }

    std::size_t most() const { return most_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::size_t> most_;
};

/// Peak resident set of this process in KiB, since it was started: /proc's VmHWM, not
/// getrusage's ru_maxrss, which a process started by posix_spawn inherits from its parent (the
/// kernel keeps the larger of the old and new images' peaks across exec, and the old image of a
/// vfork-style spawn is the parent's), so that every child would seem at least as big as it.
long peak_rss_kib();

/// The same for process `pid`, while it runs; 0 if it has ended.
long peak_rss_kib_of(pid_t pid);

} // namespace fxrates::detail
