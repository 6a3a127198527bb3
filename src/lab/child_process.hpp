#pragma once

// Fresh processes of the fxrates program with pipes on their standard input and output: the
// process pool's workers and `compare`'s one-strategy runs. posix_spawn, never a bare fork of a
// threaded process. The pipes are then watched with Asio (posix::stream_descriptor) by whoever
// started the child.

#include <boost/asio/posix/stream_descriptor.hpp>

#include <sys/resource.h>
#include <sys/types.h>

#include <optional>
#include <string>

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

/// Hands our end of a child's pipe to `descriptor`, which then owns it; if Asio cannot take it,
/// closes it (the child then sees the end of its input, or we the end of its output).
void adopt_pipe(boost::asio::posix::stream_descriptor& descriptor, int fd);

/// A child that dies while we write to it must not kill this process with SIGPIPE.
void ignore_sigpipe();

/// waitpid that retries after interruptions; the child's status, and its resource use in `usage`.
int wait_for_child(pid_t pid, rusage* usage = nullptr);

} // namespace fxrates::detail
