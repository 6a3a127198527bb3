#pragma once

// What a strategy run costs, read from the operating system.

#include <atomic>
#include <cstddef>

namespace fxrates::detail {

/// User + system CPU seconds of this process so far; with `children`, also of its waited-for
/// child processes.
double cpu_seconds(bool children = false);

/// Threads of this process now (from /proc/self/status).
std::size_t thread_count();

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

/// Peak resident set of this process in KiB.
long peak_rss_kib();

} // namespace fxrates::detail
