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
 * SIGINT, SIGTERM and (with `hangup`) SIGHUP as a stop request: the first one is kept, for a
 * `stop_signal_wait` to hand to an event loop (at once if it came before the loop existed); any
 * later one takes the signal's default action at once, in the signal handler, whatever the loop is
 * doing (a write to a pipe nobody reads blocks it, and Asio's signal_set, which hands signals to
 * the loop, could then not stop it at all). After `cancel`, every signal takes its default action.
 *
 * Made when the command starts, so that no signal before the loop is lost. One at a time in a
 * process (the handler's state is the process's); the handlers that were there before come back
 * when it is destroyed.
 */
class stop_signals
{
public:
    explicit stop_signals(bool hangup);
    ~stop_signals();
    stop_signals(const stop_signals&) = delete;
    stop_signals& operator=(const stop_signals&) = delete;

    /// Every signal from now on stops the program at once.
    void cancel();

private:
    friend class stop_signal_wait;
    struct installed
    {
        int number;
        struct sigaction before;
    };
    int wake_read_ = -1;
    int wake_write_ = -1;
    std::vector<installed> installed_;
};

/// The loop's side of `stop_signals`: calls `handler(signal number)` on `context`'s loop at the
/// first signal, unless cancelled first. Destroy it before `context`.
class stop_signal_wait
{
public:
    stop_signal_wait(stop_signals& signals, boost::asio::io_context& context, std::function<void(int)> handler);
    stop_signal_wait(const stop_signal_wait&) = delete;
    stop_signal_wait& operator=(const stop_signal_wait&) = delete;

    /// The handler is not called (the wait no longer keeps the loop running).
    void cancel();

private:
    boost::asio::posix::stream_descriptor wake_;
    char byte_ = 0;
};

} // namespace fxrates::cli
