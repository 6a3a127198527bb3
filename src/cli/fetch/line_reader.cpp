#include "cli/fetch/line_reader.hpp"

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace fxrates::cli::fetch {

namespace {
constexpr std::size_t read_size = 64 * 1024;
}

line_reader::line_reader(int fd, std::size_t max_line, int stop_fd)
    : fd_(fd), stop_fd_(stop_fd), max_line_(max_line), buffer_(std::max(max_line + 1, read_size) + read_size)
{
    struct stat info{};
    regular_ = ::fstat(fd, &info) == 0 && S_ISREG(info.st_mode);
}

bool line_reader::fill()
{
    if (done_ != status::line)
        return false;
    if (begin_ > 0)
    {
        base_ += begin_;
        std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
    }
    for (;;)
    {
        // A pipe, FIFO or terminal is waited for here, with the stop descriptor; a regular file
        // never waits. (A FIFO opened without waiting for its writer reads as ended until one
        // comes; poll waits for it.)
        if (!regular_)
        {
            pollfd waits[2] = {{fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
            if (::poll(waits, stop_fd_ >= 0 ? 2 : 1, -1) < 0)
            {
                if (errno == EINTR)
                    continue;
                error_ = errno;
                done_ = status::failed;
                return false;
            }
            if (stop_fd_ >= 0 && waits[1].revents != 0)
            {
                done_ = status::stopped;
                return false;
            }
        }
        auto got = ::read(fd_, buffer_.data() + end_, buffer_.size() - end_);
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (got < 0)
        {
            error_ = errno;
            done_ = status::failed;
            return false;
        }
        if (got == 0)
        {
            done_ = status::end;
            return false;
        }
        end_ += static_cast<std::size_t>(got);
        return true;
    }
}

line_reader::status line_reader::next(std::string& line)
{
    std::size_t scanned = 0; // of [begin_, end_), known to hold no newline
    bool skipping = false;   // in a line over the limit, dropping its bytes
    line_offset_ = base_ + begin_;
    for (;;)
    {
        const char* from = buffer_.data() + begin_ + scanned;
        const char* to = buffer_.data() + end_;
        const char* newline = std::find(from, to, '\n');
        if (newline != to)
        {
            const auto length = static_cast<std::size_t>(newline - (buffer_.data() + begin_));
            if (!skipping && length <= max_line_)
                line.assign(buffer_.data() + begin_, length);
            begin_ += length + 1;
            return skipping || length > max_line_ ? status::too_long : status::line;
        }
        scanned = end_ - begin_;
        if (scanned > max_line_)
        {
            // Too long already: forget its bytes, keep looking for its end.
            skipping = true;
            base_ += end_;
            begin_ = end_ = scanned = 0;
        }
        if (!fill())
        {
            if (done_ == status::end && (skipping || end_ > begin_))
            {
                // A last line without a newline.
                const bool kept = !skipping;
                if (kept)
                    line.assign(buffer_.data() + begin_, end_ - begin_);
                base_ += end_;
                begin_ = end_ = 0;
                return kept ? status::line : status::too_long;
            }
            return done_;
        }
    }
}

} // namespace fxrates::cli::fetch
