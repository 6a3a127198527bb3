#pragma once

// An owned POSIX file descriptor, for the fetch command's files (output files, their folders,
// spill files): closed exactly once, never leaked on an early return.

#include <cerrno>
#include <string>
#include <system_error>
#include <utility>

#include <unistd.h>

namespace fxrates::cli::fetch {

/// Owns a file descriptor (or none, -1) and closes it on destruction. Move-only.
class unique_fd
{
public:
    unique_fd() noexcept = default;
    explicit unique_fd(int fd) noexcept : fd_(fd) {}
    unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    unique_fd& operator=(unique_fd&& other) noexcept
    {
        if (this != &other)
            reset(std::exchange(other.fd_, -1));
        return *this;
    }
    ~unique_fd() { reset(); }

    /// The descriptor, still owned; -1 if none.
    int get() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }

    /// Gives up ownership: the caller closes the descriptor returned (to see close's error).
    int release() noexcept { return std::exchange(fd_, -1); }

    /// Closes the descriptor held (if any) and takes `fd`. A close error is ignored: the descriptor
    /// is gone either way on Linux, and whoever needs to know about lost data calls fsync first.
    void reset(int fd = -1) noexcept
    {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

/// The text of an errno value ("No space left on device"), thread-safe unlike strerror.
inline std::string errno_text(int error)
{
    return std::generic_category().message(error);
}

} // namespace fxrates::cli::fetch
