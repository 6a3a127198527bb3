#pragma once

// Ctrl-C for a command whose event loop may be stuck: the first signal asks the run to stop, as it
// can, and a second one ends the program at once, from the signal handler itself.

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <csignal>
#include <functional>
#include <vector>

namespace fxrates::cli {

/**
 * SIGINT, SIGTERM and (with `hangup`) SIGHUP as a stop request for an event loop: the first one
 * calls the handler of `async_wait` on the loop; any later one takes the signal's default action
 * at once, in the signal handler, whatever the loop is doing (a write to a pipe nobody reads
 * blocks it, and Asio's signal_set, which hands signals to the loop, could then not stop it at
 * all). After `cancel`, every signal takes its default action at once.
 *
 * One at a time in a process (the handler's state is the process's); the handlers that were there
 * before come back when it is destroyed.
 */
class stop_signals
{
public:
    stop_signals(boost::asio::io_context& context, bool hangup);
    ~stop_signals();
    stop_signals(const stop_signals&) = delete;
    stop_signals& operator=(const stop_signals&) = delete;

    /// `handler(signal number)` is called on the loop at the first signal, unless cancelled first.
    void async_wait(std::function<void(int)> handler);

    /// No handler is called from now on, and any signal stops the program at once.
    void cancel();

private:
    struct installed
    {
        int number;
        struct sigaction before;
    };
    boost::asio::posix::stream_descriptor wake_;
    int wake_write_ = -1;
    char byte_ = 0;
    std::vector<installed> installed_;
};

} // namespace fxrates::cli
