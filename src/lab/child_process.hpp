#pragma once

// Fresh processes of the fxrates program with pipes on their standard input and output: the
// process pool's workers and `compare`'s one-strategy runs. posix_spawn, never a bare fork of a
// threaded process.

#include <sys/resource.h>
#include <sys/types.h>

#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

namespace fxrates::detail {

/// A started child: its pid, and our ends of its standard input and output (close-on-exec).
struct child_process
{
    pid_t pid = -1;
    int to_child = -1;
    int from_child = -1;
};

/// Starts `program mode`, with the pipes as its standard input and output and no other descriptor
/// of ours (not even ones without close-on-exec, as Asio's sockets are). The child starts with
/// SIGINT and SIGTERM blocked: Ctrl-C at a terminal reaches the whole process group, and the parent
/// stops its children itself (by ending their input, or by killing them), rather than each dying
/// on its own in the middle of a job. On failure, says why in `why` ("cannot make a pipe: ...", "cannot start PROGRAM: ...").
std::optional<child_process> spawn_child(const std::string& program, const char* mode, std::string& why);

/// Writes all of `text`, retrying after interruptions; false if the reader is gone.
bool write_all(int fd, std::string_view text);

/// A child that dies while we write to it must not kill this process with SIGPIPE.
void ignore_sigpipe();

/// A pipe that becomes readable once `stop` is requested, so that a poll() loop wakes at once.
class stop_wakeup
{
public:
    explicit stop_wakeup(std::stop_token stop);
    ~stop_wakeup();
    stop_wakeup(const stop_wakeup&) = delete;
    stop_wakeup& operator=(const stop_wakeup&) = delete;

    /// The end to poll for POLLIN; -1 if no pipe could be made (then only timeouts wake the loop).
    int fd() const noexcept { return fds_[0]; }

private:
    struct notify
    {
        int fd;
        void operator()() const noexcept;
    };
    int fds_[2] = {-1, -1};
    std::optional<std::stop_callback<notify>> on_stop_;
};

/// waitpid that retries after interruptions; the child's status, and its resource use in `usage`.
int wait_for_child(pid_t pid, rusage* usage = nullptr);

} // namespace fxrates::detail
