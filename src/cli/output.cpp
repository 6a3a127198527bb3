#include "cli/output.hpp"

#include "cli/present.hpp"

#include <cerrno>
#include <cstring>
#include <iostream>

#include <fcntl.h>
#include <unistd.h>

namespace fxrates::cli {

namespace {

bool cannot_write(std::string_view command, std::string_view what, int error)
{
    report(command, "cannot write " + std::string(what) + ": " + std::strerror(error));
    return false;
}

// 0 when every byte went out, else the errno of the failing write.
int write_all(int fd, std::string_view text)
{
    while (!text.empty())
    {
        ssize_t written = ::write(fd, text.data(), text.size());
        if (written < 0)
        {
            if (errno == EINTR)
                continue;
            return errno;
        }
        text.remove_prefix(static_cast<std::size_t>(written));
    }
    return 0;
}

constexpr std::string_view standard_output = "standard output";

} // namespace

void report(std::string_view command, std::string_view message)
{
    std::cerr << "fxrates" << (command.empty() ? "" : " ") << command << ": " << escape_untrusted(message, false)
              << '\n'
              << std::flush;
}

bool check_standard_output(std::string_view command)
{
    if (::fcntl(STDOUT_FILENO, F_GETFL) == -1)
        return cannot_write(command, standard_output, errno);
    return true;
}

bool write_standard_output(std::string_view command, std::string_view text)
{
    if (int error = write_all(STDOUT_FILENO, text))
        return cannot_write(command, standard_output, error);
    return true;
}

bool close_standard_output(std::string_view command)
{
    // EINTR: the descriptor is closed all the same on Linux, and its data was handed on.
    if (::close(STDOUT_FILENO) != 0 && errno != EINTR)
        return cannot_write(command, standard_output, errno);
    return true;
}

bool write_file(std::string_view command, const std::string& path, std::string_view text)
{
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        return cannot_write(command, path, errno);
    int error = write_all(fd, text);
    if (::close(fd) != 0 && error == 0 && errno != EINTR)
        error = errno;
    if (error != 0)
        return cannot_write(command, path, error);
    return true;
}

} // namespace fxrates::cli
