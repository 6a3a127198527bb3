#include "client/spawn.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>

namespace asio = boost::asio;
using fxrates::detail::spawn_cancellable;

namespace {

// Waits on a timer that never fires by itself: only a cancellation ends it.
asio::awaitable<std::string> wait_for_cancellation()
{
    co_await asio::this_coro::throw_if_cancelled(false);
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::hours(1));
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return ec == asio::error::operation_aborted ? "cancelled" : "timer fired";
}

} // namespace

TEST_CASE("a cancellation that comes before the coroutine's first step waits for it, and then reaches it")
{
    // Asio 1.81's co_spawn ends in std::terminate here: the cancellation is emitted after the spawn
    // and before the loop has run the coroutine at all.
    asio::io_context context;
    asio::cancellation_signal cancel;
    std::optional<std::string> result;
    bool failed = false;
    spawn_cancellable(context.get_executor(), wait_for_cancellation(), cancel.slot(),
                      [&](std::exception_ptr failure, std::string outcome) {
                          failed = failure != nullptr;
                          result = outcome;
                      });
    cancel.emit(asio::cancellation_type::terminal);
    context.run_for(std::chrono::seconds(10)); // a hang becomes a failure
    REQUIRE(result);
    CHECK_FALSE(failed);
    CHECK(*result == "cancelled");
    CHECK_FALSE(cancel.slot().has_handler()); // cleared when it completed
}

TEST_CASE("a cancellation after the coroutine started reaches it at once, and a void coroutine completes too")
{
    asio::io_context context;
    asio::cancellation_signal cancel;
    std::optional<std::string> result;
    spawn_cancellable(context.get_executor(), wait_for_cancellation(), cancel.slot(),
                      [&](std::exception_ptr, std::string outcome) { result = outcome; });
    context.poll(); // started, waiting on its timer
    REQUIRE_FALSE(result);
    cancel.emit(asio::cancellation_type::terminal);
    context.run_for(std::chrono::seconds(10));
    REQUIRE(result);
    CHECK(*result == "cancelled");

    bool finished = false;
    auto nothing = []() -> asio::awaitable<void> { co_return; };
    spawn_cancellable(context.get_executor(), nothing(), asio::cancellation_slot(),
                      [&](std::exception_ptr failure) { finished = failure == nullptr; });
    context.restart();
    context.run_for(std::chrono::seconds(10));
    CHECK(finished);
}
