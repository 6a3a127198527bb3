#include "cli/interrupt_watch.hpp"

#include <csignal>

namespace fxrates::cli {

interrupt_watch::interrupt_watch()
    : signals_(context_, SIGINT, SIGTERM), work_(boost::asio::make_work_guard(context_))
{
    signals_.async_wait([this](const boost::system::error_code& ec, int number) {
        if (ec)
            return;
        signal_ = number;
        stop_.request_stop();
    });
    thread_ = std::thread([this] { context_.run(); });
}

interrupt_watch::~interrupt_watch()
{
    // Stop rather than wait: a timer someone left on the loop must not keep it alive.
    context_.stop();
    thread_.join();
}

} // namespace fxrates::cli
