#include "cli/stop_signals.hpp"

#include <boost/asio/buffer.hpp>

#include <atomic>
#include <stdexcept>
#include <string>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

namespace fxrates::cli {

namespace {

// The first signal's number; -1 once every signal is to stop the program at once. Lock-free
// atomics are safe in a signal handler.
std::atomic<int> first_signal{0};
std::atomic<int> wake_fd{-1};

void on_signal(int number)
{
    int expected = 0;
    if (first_signal.compare_exchange_strong(expected, number))
    {
        const int saved_errno = errno;
        if (int fd = wake_fd.load(); fd >= 0)
        {
            const char byte = 1;
            [[maybe_unused]] auto written = ::write(fd, &byte, 1);
        }
        errno = saved_errno;
        return;
    }
    // A second one, or one after cancel(): what the signal does by default, now. The signal is
    // blocked while its handler runs, so raise() takes effect as the handler returns.
    ::signal(number, SIG_DFL);
    ::raise(number);
}

} // namespace

stop_signals::stop_signals(bool hangup)
{
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
        throw std::system_error(errno, std::generic_category(), "cannot make the signal pipe");
    // Above the standard descriptors: with stdin closed the pipe would take descriptor 0, and
    // `-i -` would read it (and wait for ever) instead of saying that stdin is closed.
    for (int& fd : fds)
        if (fd <= STDERR_FILENO)
        {
            const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
            ::close(fd);
            fd = moved;
        }
    if (fds[0] < 0 || fds[1] < 0)
        throw std::system_error(errno, std::generic_category(), "cannot make the signal pipe");
    wake_read_ = fds[0];
    wake_write_ = fds[1];
    first_signal = 0;
    wake_fd = wake_write_;
    std::vector<int> numbers = {SIGINT, SIGTERM};
    if (hangup)
        numbers.push_back(SIGHUP);
    for (int number : numbers)
    {
        struct sigaction action{};
        action.sa_handler = on_signal;
        sigemptyset(&action.sa_mask);
        // Interrupted calls resume: the first signal only asks the loop to stop, and code that
        // reads or writes need not treat EINTR as a failure.
        action.sa_flags = SA_RESTART;
        installed entry{number, {}};
        if (::sigaction(number, &action, &entry.before) == 0)
            installed_.push_back(entry);
    }
}

stop_signals::~stop_signals()
{
    for (const auto& entry : installed_)
        ::sigaction(entry.number, &entry.before, nullptr);
    wake_fd = -1;
    ::close(wake_write_);
    ::close(wake_read_);
}

void stop_signals::cancel()
{
    int expected = 0;
    first_signal.compare_exchange_strong(expected, -1);
}

stop_signal_wait::stop_signal_wait(stop_signals& signals, boost::asio::io_context& context,
                                   std::function<void(int)> handler)
    : wake_(context)
{
    const int fd = ::fcntl(signals.wake_read_, F_DUPFD_CLOEXEC, 0);
    if (fd < 0)
        throw std::system_error(errno, std::generic_category(), "cannot wait for signals");
    wake_.assign(fd);
    // A signal that came before the loop left its byte in the pipe: the read completes at once.
    wake_.async_read_some(boost::asio::buffer(&byte_, 1),
                          [handler = std::move(handler)](const boost::system::error_code& ec, std::size_t) {
                              const int number = first_signal.load();
                              if (!ec && number > 0)
                                  handler(number);
                          });
}

void stop_signal_wait::cancel()
{
    boost::system::error_code ignored;
    wake_.cancel(ignored);
}

} // namespace fxrates::cli
