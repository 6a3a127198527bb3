#include "cli/progress.hpp"

#include "cli/present.hpp"

#include <boost/asio/post.hpp>

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace fxrates::cli {

namespace {

// Back to the start of the line and clear it: the line is redrawn in place.
constexpr std::string_view clear_line = "\r\x1b[K";

constexpr auto redraw_interval = std::chrono::milliseconds(100);

std::string seconds_text(std::chrono::nanoseconds d)
{
    char text[32];
    double seconds = std::chrono::duration<double>(d).count();
    if (seconds < 60)
        std::snprintf(text, sizeof text, "%.1f s", seconds);
    else
        std::snprintf(text, sizeof text, "%lld min %02lld s", static_cast<long long>(seconds) / 60,
                      static_cast<long long>(seconds) % 60);
    return text;
}

} // namespace

std::string progress_text(std::size_t done, std::size_t failed, std::size_t total, std::chrono::nanoseconds elapsed)
{
    // A list read as it goes has no total yet (0): then no estimate either.
    std::string text = std::to_string(done) + (total > 0 ? "/" + std::to_string(total) : std::string()) + " done";
    if (failed > 0)
        text += ", " + std::to_string(failed) + " failed";
    text += ", " + seconds_text(elapsed);
    // The rate so far, assumed to hold: honest enough for a batch of like requests, and shown only
    // once there is a rate to go on.
    if (done > 0 && done < total)
        text += ", about " + seconds_text(elapsed * static_cast<long long>(total - done) / static_cast<long long>(done)) +
                " left";
    return text;
}

bool standard_error_is_terminal()
{
    return ::isatty(STDERR_FILENO) == 1;
}

progress_display::progress_display(std::string command, std::size_t total, bool on_terminal)
    : command_(std::move(command)), total_(total), on_terminal_(on_terminal)
{
}

progress_display::~progress_display()
{
    finish();
}

void progress_display::start(boost::asio::any_io_executor executor)
{
    if (!on_terminal_)
        return;
    {
        std::lock_guard lock(mutex_);
        draw_locked(clock_type::now());
    }
    auto ticker = std::make_shared<boost::asio::steady_timer>(executor);
    {
        std::lock_guard lock(mutex_);
        ticker_ = ticker;
    }
    tick(std::move(ticker));
}

// The pending wait owns the timer: it goes when the wait ends or its loop is destroyed, never after
// that loop (which the display may outlive).
void progress_display::tick(std::shared_ptr<boost::asio::steady_timer> ticker)
{
    ticker->expires_after(redraw_interval);
    auto& timer = *ticker;
    timer.async_wait([this, ticker = std::move(ticker)](boost::system::error_code ec) mutable {
        if (ec)
            return;
        {
            std::lock_guard lock(mutex_);
            if (finished_)
                return;
            draw_locked(clock_type::now());
        }
        tick(std::move(ticker));
    });
}

void progress_display::record(bool ok, const std::function<std::string()>& describe)
{
    if (!on_terminal_)
        return;
    std::lock_guard lock(mutex_);
    // A failure is said as it happens, over the line; once the line is gone (the run was stopped,
    // and its summary follows) there is nothing to clear and nothing more to draw.
    if (!ok)
        if (auto line = describe(); !line.empty())
        {
            if (!finished_)
                std::cerr << clear_line;
            std::cerr << "fxrates " << command_ << ": " << escape_untrusted(line, false) << '\n';
        }
    if (finished_)
        return;
    ++done_;
    auto now = clock_type::now();
    if (!ok)
    {
        ++failed_;
        draw_locked(now);
    }
    else if (now - last_draw_ >= redraw_interval || done_ == total_)
        draw_locked(now);
}

void progress_display::finish()
{
    if (!on_terminal_)
        return;
    std::lock_guard lock(mutex_);
    if (std::exchange(finished_, true))
        return;
    std::cerr << clear_line << std::flush;
    // Cancelled on its own loop (timers are not thread-safe); the display keeps no reference.
    if (auto ticker = ticker_.lock())
        boost::asio::post(ticker->get_executor(), [ticker] { ticker->cancel(); });
}

void progress_display::draw_locked(clock_type::time_point now)
{
    last_draw_ = now;
    std::string line = "fxrates " + command_ + ": " + progress_text(done_, failed_, total_, now - started_);
    // Within one row of the terminal, as it is now (it may have been resized): a line that wraps
    // is not cleared by the next "\r\x1b[K", and the screen fills with old lines.
    if (winsize size{}; ::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 1 && line.size() >= size.ws_col)
        line.resize(size.ws_col - 1u);
    std::cerr << clear_line << line << std::flush;
}

} // namespace fxrates::cli
