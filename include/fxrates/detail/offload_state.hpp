#pragma once

// What async_offload shares between the caller's thread and the pool thread. Only offload.hpp
// includes this.

#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/system_error.hpp>

#include <fxrates/error.hpp>

#include <atomic>
#include <exception>
#include <system_error>
#include <optional>
#include <utility>

namespace fxrates::detail {

/// Runs `body`, turning an exception into an error code: a system_error keeps its code.
template <class Body>
error_code run_catching(Body&& body) noexcept
{
    try
    {
        body();
        return {};
    }
    catch (const boost::system::system_error& e)
    {
        return e.code();
    }
    catch (const std::system_error& e)
    {
        return error_code(e.code());
    }
    catch (...)
    {
        return errc::offload_exception;
    }
}

template <class Handler, class Result, class PoolExecutor>
class offload_state
{
public:
    using handler_executor = boost::asio::associated_executor_t<Handler>;

    offload_state(Handler handler, const PoolExecutor& pool)
        : handler_(std::move(handler)), executor_(boost::asio::get_associated_executor(*handler_)),
          caller_work_(executor_), pool_work_(pool)
    {
    }

    /// From the pool thread: the job's value (or exception) goes to the caller, unless the wait
    /// was abandoned first.
    template <class... Value>
    static void deliver(const std::shared_ptr<offload_state>& self, error_code failure, Value&&... value)
    {
        if (self->claimed_.exchange(true))
            return; // abandoned: the result is dropped
        post_completion(self, failure, std::forward<Value>(value)...);
    }

    /// From a cancellation slot: complete now with operation_aborted; the job's result will be dropped.
    static void abandon(const std::shared_ptr<offload_state>& self)
    {
        if (self->claimed_.exchange(true))
            return;
        error_code aborted = boost::asio::error::operation_aborted;
        if constexpr (std::is_void_v<Result>)
            post_completion(self, aborted);
        else
            post_completion(self, aborted, Result{});
    }

    Handler& handler() { return *handler_; }

private:
    // Back on the caller's executor, with the handler's allocator; never on a pool thread.
    template <class... Value>
    static void post_completion(const std::shared_ptr<offload_state>& self, error_code failure,
                                Value&&... value)
    {
        auto allocator = boost::asio::get_associated_allocator(*self->handler_);
        auto executor = self->executor_;
        boost::asio::post(executor, boost::asio::bind_allocator(allocator, [self, failure,
                                                                            ... value = std::forward<Value>(value)]() mutable {
            Handler handler = std::move(*self->handler_);
            self->handler_.reset();
            boost::asio::get_associated_cancellation_slot(handler).clear();
            self->pool_work_.reset();
            auto caller_work = std::move(self->caller_work_);
            std::move(handler)(failure, std::move(value)...);
        }));
    }

    std::optional<Handler> handler_;
    handler_executor executor_;
    boost::asio::executor_work_guard<handler_executor> caller_work_; // the caller's loop must not run dry
    boost::asio::executor_work_guard<PoolExecutor> pool_work_;
    std::atomic<bool> claimed_{false};
};

} // namespace fxrates::detail
