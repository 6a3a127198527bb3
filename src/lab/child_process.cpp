#include "lab/child_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace fxrates::detail {

std::optional<child_process> spawn_child(const std::string& program, const char* mode, std::string& why)
{
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0)
    {
        why = std::string("cannot make a pipe: ") + std::strerror(errno);
        return std::nullopt;
    }
    if (::pipe2(out, O_CLOEXEC) != 0)
    {
        why = std::string("cannot make a pipe: ") + std::strerror(errno);
        ::close(in[0]);
        ::close(in[1]);
        return std::nullopt;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO); // dup2 clears close-on-exec
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    // Only 0, 1 and 2 go to the child: a listening socket of the local server, say, must not
    // stay open (and bound) in a process that never uses it.
    posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    // Ctrl-C goes to the terminal's whole process group. The children must not die of it in the
    // middle of a job: they start with SIGINT and SIGTERM blocked, and the parent, which keeps
    // what was done, stops them (by ending their input, or by killing them).
    sigset_t blocked;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGINT);
    sigaddset(&blocked, SIGTERM);
    posix_spawnattr_setsigmask(&attributes, &blocked);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK);
    std::string name = program, mode_text = mode;
    char* argv[] = {name.data(), mode_text.data(), nullptr};
    child_process child;
    int failed = ::posix_spawn(&child.pid, program.c_str(), &actions, &attributes, argv, environ);
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    ::close(in[0]);
    ::close(out[1]);
    if (failed != 0)
    {
        why = "cannot start " + program + ": " + std::strerror(failed);
        ::close(in[1]);
        ::close(out[0]);
        return std::nullopt;
    }
    child.to_child = in[1];
    child.from_child = out[0];
    return child;
}

void adopt_pipe(boost::asio::posix::stream_descriptor& descriptor, int fd)
{
    boost::system::error_code failed;
    descriptor.assign(fd, failed);
    if (failed)
        ::close(fd);
}

int wait_for_child(pid_t pid, rusage* usage)
{
    int status = 0;
    while (::wait4(pid, &status, 0, usage) < 0 && errno == EINTR)
    {
    }
    return status;
}

void ignore_sigpipe()
{
    struct sigaction ignore
    {
    };
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, nullptr);
}

} // namespace fxrates::detail
