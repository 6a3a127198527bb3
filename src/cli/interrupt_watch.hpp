#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <atomic>
#include <stop_token>
#include <thread>

namespace fxrates::cli {

/// Turns Ctrl-C (SIGINT) and SIGTERM into a stop request for as long as it lives, for the ways of
/// working that block threads (the lab's strategies): an `asio::signal_set` on a loop of its own,
/// on one thread, which also runs the progress display's timer. The default way needs none of
/// this: its signal_set is on the loop that runs the client.
class interrupt_watch
{
public:
    interrupt_watch();
    ~interrupt_watch();

    interrupt_watch(const interrupt_watch&) = delete;
    interrupt_watch& operator=(const interrupt_watch&) = delete;

    std::stop_token token() const noexcept { return stop_.get_token(); }

    /// The signal that arrived, or 0.
    int signal() const noexcept { return signal_; }

    /// The watch's loop, for timers that must run while the calling thread blocks.
    boost::asio::any_io_executor executor() { return context_.get_executor(); }

private:
    boost::asio::io_context context_{1};
    boost::asio::signal_set signals_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::stop_source stop_;
    std::atomic<int> signal_{0};
    std::thread thread_;
};

} // namespace fxrates::cli
