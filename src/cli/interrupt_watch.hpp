#pragma once

#include <atomic>
#include <csignal>
#include <stop_token>
#include <thread>

namespace fxrates::cli {

/// Turns Ctrl-C (SIGINT) and SIGTERM into a stop request for as long as it lives.
///
/// The signals are blocked in the constructing thread, and so in every thread it starts
/// afterwards; one thread waits for them with sigwait and requests the stop. So a signal never
/// interrupts a system call at a random place, and the work that was done is kept and printed.
class interrupt_watch
{
public:
    interrupt_watch();
    ~interrupt_watch();

    interrupt_watch(const interrupt_watch&) = delete;
    interrupt_watch& operator=(const interrupt_watch&) = delete;

    std::stop_token token() const noexcept { return stop_.get_token(); }

    /// The signal that arrived, or 0.
    int signal() const noexcept { return signal_; }

private:
    sigset_t previous_mask_{};
    std::stop_source stop_;
    std::atomic<int> signal_{0};
    std::thread waiter_;
};

} // namespace fxrates::cli
