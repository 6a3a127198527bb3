#pragma once

// The lines of a URL list, read from a file descriptor (a file, a pipe, stdin) with two guards a
// std::getline lacks: a line has a length limit (a list is not a 10 GB blob without a newline), and
// a read that waits for a slow writer can be stopped from another thread (Ctrl-C while a pipe is
// quiet), through a "stop" descriptor that becomes readable.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fxrates::cli::fetch {

class line_reader
{
public:
    enum class status
    {
        line,     ///< a line (without its newline)
        too_long, ///< a line longer than the limit, skipped up to its newline
        end,      ///< no more lines
        stopped,  ///< the stop descriptor became readable
        failed,   ///< read failed: `error()` says why
    };

    /// Reads `fd` (not owned, blocking or not) a line at a time, lines of at most `max_line` bytes.
    /// With `stop_fd` (not owned, -1: none), a wait for data ends as soon as `stop_fd` is readable.
    line_reader(int fd, std::size_t max_line, int stop_fd = -1);

    /// The next line into `line`.
    status next(std::string& line);

    /// Where the last line `next` gave begins, in bytes from where reading began.
    std::uint64_t line_offset() const noexcept { return line_offset_; }

    /// The errno of a `failed` read.
    int error() const noexcept { return error_; }

private:
    // More bytes into the buffer; false at the end, when stopped, or on failure (status_ says).
    bool fill();

    int fd_;
    int stop_fd_;
    bool regular_; // a regular file: read without waiting
    std::size_t max_line_;
    std::vector<char> buffer_;
    std::uint64_t base_ = 0; // where buffer_[0] is in the input
    std::uint64_t line_offset_ = 0;
    std::size_t begin_ = 0; // unread bytes are [begin_, end_)
    std::size_t end_ = 0;
    status done_ = status::line; // end, stopped or failed once reading is over
    int error_ = 0;
};

} // namespace fxrates::cli::fetch
