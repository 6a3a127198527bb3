#pragma once

// Progress while a batch runs, as curl, wget and cargo show it: on a terminal, one line redrawn in
// place (done/total, failures, elapsed, an estimate of what is left), at most ten times a second,
// with each failure printed above it as it happens. Anywhere else (a file, a pipe, a CI log) there
// are no redraws at all: the failures are printed once, at the end, by the command.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace fxrates::cli {

/// The progress line's text, e.g. `12/33 done, 1 failed, 3.2 s, about 5 s left`: sans-io, so that
/// its arithmetic is tested without a terminal or a clock.
std::string progress_text(std::size_t done, std::size_t failed, std::size_t total, std::chrono::nanoseconds elapsed);

/// True when standard error is a terminal (where a redrawn line makes sense).
bool standard_error_is_terminal();

class progress_display
{
public:
    using clock_type = std::chrono::steady_clock;

    /// Counts `total` items of `command`. Disabled (`on_terminal` false), it does nothing at all.
    progress_display(std::string command, std::size_t total, bool on_terminal);
    ~progress_display();

    progress_display(const progress_display&) = delete;
    progress_display& operator=(const progress_display&) = delete;

    /// On a terminal; then the failures were printed as they happened, and are not printed again.
    bool enabled() const noexcept { return on_terminal_; }

    /// Redraws every 100 ms on `executor` (so that the elapsed time moves while nothing finishes)
    /// until `finish`.
    void start(boost::asio::any_io_executor executor);

    /// Counts one finished item; a failure is printed at once, above the line, as `describe`
    /// says it (called only then; an empty line prints nothing), after `finish` too. From any thread.
    void record(bool ok, const std::function<std::string()>& describe);

    /// Clears the line, for the command's own output. From any thread; idempotent.
    void finish();


private:
    void tick(std::shared_ptr<boost::asio::steady_timer> ticker);
    void draw_locked(clock_type::time_point now);

    std::string command_;
    std::size_t total_;
    bool on_terminal_;
    clock_type::time_point started_ = clock_type::now();
    clock_type::time_point last_draw_{};
    std::mutex mutex_;
    std::size_t done_ = 0;
    std::size_t failed_ = 0;
    bool finished_ = false;
    std::weak_ptr<boost::asio::steady_timer> ticker_;
};

} // namespace fxrates::cli
