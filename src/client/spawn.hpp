#pragma once

// co_spawn with a cancellation slot that Asio 1.81 can take at any moment.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>

#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace fxrates::detail {

/// What `spawn_cancellable` keeps between the caller's slot and the coroutine: a cancellation
/// that comes before the coroutine's first step waits for it.
struct spawn_gate
{
    boost::asio::cancellation_signal inner; // the coroutine's own slot
    std::optional<boost::asio::cancellation_type> pending;
    bool started = false;
};

/// The coroutine `work` of a spawn_cancellable: cancellation passes once throw_if_cancelled is off.
template <class T>
boost::asio::awaitable<T> gated_start(std::shared_ptr<spawn_gate> gate, boost::asio::awaitable<T> work)
{
    co_await boost::asio::this_coro::throw_if_cancelled(false);
    gate->started = true;
    // Passed on from the loop once `work` has reached its first wait: an operation hears only the
    // cancellations emitted while it is pending.
    if (gate->pending)
    {
        auto executor = co_await boost::asio::this_coro::executor;
        auto pass_on = [gate] { gate->inner.emit(*gate->pending); }; // named: GCC 12, see ASIO-1.81-NOTES
        boost::asio::post(executor, std::move(pass_on));
    }
    if constexpr (std::is_void_v<T>)
        co_await std::move(work);
    else
    {
        T result = co_await std::move(work);
        co_return result;
    }
}

/**
 * `co_spawn(executor, work, bind_cancellation_slot(slot, handler))`, with `handler` called on its
 * associated executor as co_spawn would, but safe against a cancellation that comes between the
 * spawn and the coroutine's first step: Asio 1.81's co_spawn then throws "co_await: Operation
 * canceled" out of its own entry point, before the coroutine can turn throw_if_cancelled off, and
 * the program ends in std::terminate. Here such a cancellation is held until the coroutine has
 * turned it off, then passed on. `work` must itself expect cancellation as an error, not an
 * exception (it runs with throw_if_cancelled off).
 *
 * `handler` takes `(std::exception_ptr)` for `awaitable<void>`, else `(std::exception_ptr, T)`.
 * The slot's handler is cleared before `handler` is called.
 */
template <class T, class Handler>
void spawn_cancellable(const boost::asio::any_io_executor& executor, boost::asio::awaitable<T> work,
                       boost::asio::cancellation_slot slot, Handler handler)
{
    namespace asio = boost::asio;
    auto gate = std::make_shared<spawn_gate>();
    if (slot.is_connected())
        slot.assign([gate](asio::cancellation_type type) {
            if (gate->started)
                gate->inner.emit(type);
            else
                gate->pending = gate->pending ? *gate->pending | type : type;
        });
    auto handler_executor = asio::get_associated_executor(handler, executor);
    auto done = [gate, slot, handler = std::move(handler)](std::exception_ptr failure, auto... result) mutable {
        if (slot.is_connected())
            slot.clear();
        std::move(handler)(failure, std::move(result)...);
    };
    auto inner_slot = gate->inner.slot();
    asio::co_spawn(executor, gated_start<T>(std::move(gate), std::move(work)),
                   asio::bind_cancellation_slot(inner_slot, asio::bind_executor(handler_executor, std::move(done))));
}

} // namespace fxrates::detail
