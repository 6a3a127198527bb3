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
#include <functional>
#include <memory>
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

    /// On the pool thread: runs the job, and hands its value (or exception) to the caller, unless
    /// the wait was abandoned first.
    template <class Job>
    static void run(const std::shared_ptr<offload_state>& self, Job& job)
    {
        // The job is running, which keeps the pool busy by itself; releasing the guard here, and
        // not when the handler runs, lets the pool be joined even if the caller's loop has stopped.
        self->pool_work_.reset();
        if constexpr (std::is_void_v<Result>)
        {
            error_code failure = run_catching([&] { std::invoke(job); });
            deliver(self, failure);
        }
        else
        {
            Result value{};
            error_code failure = run_catching([&] { value = std::invoke(job); });
            deliver(self, failure, std::move(value));
        }
    }

    /// The job was destroyed without running (the pool was shut down first): the wait ends with
    /// operation_aborted rather than never.
    static void dropped(const std::shared_ptr<offload_state>& self)
    {
        self->pool_work_.reset();
        abandon(self);
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
    template <class... Value>
    static void deliver(const std::shared_ptr<offload_state>& self, error_code failure, Value&&... value)
    {
        if (self->claimed_.exchange(true))
            return; // abandoned: the result is dropped
        post_completion(self, failure, std::forward<Value>(value)...);
    }

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
            auto caller_work = std::move(self->caller_work_);
            std::move(handler)(failure, std::move(value)...);
        }));
    }

    std::optional<Handler> handler_;
    handler_executor executor_;
    boost::asio::executor_work_guard<handler_executor> caller_work_; // the caller's loop must not run dry
    boost::asio::executor_work_guard<PoolExecutor> pool_work_; // touched on the pool's side only
    std::atomic<bool> claimed_{false};
};

/// The job as posted to the pool. Run, it hands its value to the state; destroyed without running
/// (the pool was shut down first), it ends the wait with operation_aborted, so that no caller
/// waits for a job that will never run.
template <class State, class Job>
class offload_job
{
public:
    offload_job(std::shared_ptr<State> state, Job job) : state_(std::move(state)), job_(std::move(job)) {}
    offload_job(offload_job&&) noexcept = default; // leaves the source without a state
    offload_job& operator=(offload_job&&) = delete;
    ~offload_job()
    {
        if (state_)
            State::dropped(state_);
    }

    void operator()()
    {
        auto state = std::move(state_);
        State::run(state, job_);
    }

private:
    std::shared_ptr<State> state_;
    Job job_;
};

} // namespace fxrates::detail
