#pragma once

// Runs a coroutine on an io_context until it completes, with a hard deadline: a hang becomes a
// test failure (an exception), never a stuck test.

#include "support/https_probe.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <future>

namespace fxrates::test {

template <class T>
T run_until_complete(boost::asio::io_context& context, boost::asio::awaitable<T> work,
                     std::chrono::steady_clock::duration limit = std::chrono::seconds(20))
{
    auto result = boost::asio::co_spawn(context, std::move(work), boost::asio::use_future);
    auto deadline = std::chrono::steady_clock::now() + limit;
    context.restart();
    while (result.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
    {
        if (context.run_one_until(deadline) == 0 &&
            result.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
            throw deadline_exceeded("the operation did not complete before the test's deadline");
    }
    return result.get();
}

} // namespace fxrates::test
