// The offload bridge: values and exceptions come back, on the loop's thread, never on the pool's;
// cancellation abandons the wait. The pool's threads are real; nothing waits on the wall clock.

#include <fxrates/offload.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <optional>
#include <stdexcept>
#include <thread>

namespace asio = boost::asio;
using fxrates::async_offload;

TEST_CASE("a value computed on the pool comes back to the coroutine, on the loop's thread")
{
    asio::io_context context;
    asio::thread_pool pool(2);
    auto loop_thread = std::this_thread::get_id();
    std::thread::id job_thread, resumed_on;
    int value = 0;
    asio::co_spawn(
        context,
        [&]() -> asio::awaitable<void> {
            value = co_await async_offload(pool.get_executor(), [&] {
                job_thread = std::this_thread::get_id();
                return 6 * 7;
            });
            resumed_on = std::this_thread::get_id();
        },
        asio::detached);
    context.run(); // returns only when the job is back: the bridge holds work on the loop meanwhile
    CHECK(value == 42);
    CHECK(job_thread != loop_thread);
    CHECK(resumed_on == loop_thread);
}

TEST_CASE("an exception thrown on the pool reaches the coroutine as an error")
{
    asio::io_context context;
    asio::thread_pool pool(1);
    fxrates::error_code system_failure, other_failure;
    asio::co_spawn(
        context,
        [&]() -> asio::awaitable<void> {
            try
            {
                co_await async_offload(pool.get_executor(), []() -> int {
                    throw boost::system::system_error(asio::error::connection_refused);
                });
            }
            catch (const boost::system::system_error& e)
            {
                system_failure = e.code();
            }
            try
            {
                co_await async_offload(pool.get_executor(), []() -> int { throw std::runtime_error("bad body"); });
            }
            catch (const boost::system::system_error& e)
            {
                other_failure = e.code();
            }
        },
        asio::detached);
    context.run();
    CHECK(system_failure == asio::error::connection_refused);
    CHECK(other_failure == fxrates::errc::offload_exception);
}

TEST_CASE("a void job completes with no error, through a callback on the loop")
{
    asio::io_context context;
    asio::thread_pool pool(1);
    bool ran = false, completed = false;
    std::thread::id completed_on;
    async_offload(pool.get_executor(), [&] { ran = true; },
                  asio::bind_executor(context, [&](fxrates::error_code failure) {
                      completed = !failure;
                      completed_on = std::this_thread::get_id();
                  }));
    context.run();
    CHECK(ran);
    CHECK(completed);
    CHECK(completed_on == std::this_thread::get_id());
}

TEST_CASE("cancelling abandons the wait at once; the job still runs and its result is dropped")
{
    asio::io_context context;
    asio::thread_pool pool(1);
    std::promise<void> release_job;
    auto job_may_finish = release_job.get_future();
    std::atomic<bool> job_done{false};
    int completions = 0;
    fxrates::error_code outcome;
    asio::cancellation_signal cancel;

    async_offload(pool.get_executor(),
                  [&] {
                      job_may_finish.wait();
                      job_done = true;
                      return 1;
                  },
                  asio::bind_cancellation_slot(cancel.slot(), asio::bind_executor(context, [&](fxrates::error_code e, int) {
                                                   ++completions;
                                                   outcome = e;
                                               })));
    context.poll();
    CHECK(completions == 0);
    cancel.emit(asio::cancellation_type::terminal);
    context.poll();
    CHECK(completions == 1);
    CHECK_FALSE(job_done);
    CHECK(outcome == asio::error::operation_aborted);
    release_job.set_value();
    pool.join();
    context.restart();
    context.run();
    CHECK(job_done);
    CHECK(completions == 1); // the late result was dropped
}

TEST_CASE("total cancellation alone is not honoured: the job's side effects happen, so its result arrives")
{
    asio::io_context context;
    asio::thread_pool pool(1);
    std::promise<void> release_job;
    auto job_may_finish = release_job.get_future();
    int completions = 0, value = 0;
    fxrates::error_code outcome;
    asio::cancellation_signal cancel;

    async_offload(pool.get_executor(),
                  [&] {
                      job_may_finish.wait();
                      return 7;
                  },
                  asio::bind_cancellation_slot(cancel.slot(), asio::bind_executor(context, [&](fxrates::error_code e, int v) {
                                                   ++completions;
                                                   outcome = e;
                                                   value = v;
                                               })));
    cancel.emit(asio::cancellation_type::total);
    context.poll();
    CHECK(completions == 0);
    release_job.set_value();
    context.restart();
    context.run(); // returns once the completion has run: the caller's work guard ends there
    CHECK(completions == 1);
    CHECK_FALSE(outcome);
    CHECK(value == 7);
}

TEST_CASE("the pool can be joined once the job has run, even while the caller's loop is not running")
{
    asio::io_context context;
    asio::thread_pool pool(1);
    int completions = 0;
    async_offload(pool.get_executor(), [] { return 1; },
                  asio::bind_executor(context, [&](fxrates::error_code, int) { ++completions; }));
    auto joined = std::async(std::launch::async, [&] { pool.join(); });
    // The event is the join returning; the deadline only turns a hang into a failure.
    bool joined_in_time = joined.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
    CHECK(joined_in_time);
    context.run(); // the completion, which an old-style pool guard would have waited for
    joined.wait();
    CHECK(completions == 1);
}

TEST_CASE("a job that the pool destroys without running ends the wait with operation_aborted")
{
    asio::io_context context;
    std::optional<asio::thread_pool> pool(std::in_place, 1);
    pool->stop();
    pool->join(); // no thread left to run what is posted next
    int completions = 0;
    bool job_ran = false;
    fxrates::error_code outcome;
    async_offload(pool->get_executor(),
                  [&] {
                      job_ran = true;
                      return 1;
                  },
                  asio::bind_executor(context, [&](fxrates::error_code e, int) {
                      ++completions;
                      outcome = e;
                  }));
    pool.reset(); // destroys the queued job
    context.run();
    CHECK_FALSE(job_ran);
    CHECK(completions == 1);
    CHECK(outcome == asio::error::operation_aborted);
}

TEST_CASE("10,000 concurrent offloads all complete, each on the loop's thread")
{
    asio::io_context context;
    asio::thread_pool pool(2);
    constexpr int count = 10000;
    int completed = 0, on_loop = 0;
    long long sum = 0;
    auto loop_thread = std::this_thread::get_id();
    for (int i = 0; i < count; ++i)
        async_offload(pool.get_executor(), [i] { return i; },
                      asio::bind_executor(context, [&](fxrates::error_code failure, int value) {
                          ++completed;
                          on_loop += std::this_thread::get_id() == loop_thread ? 1 : 0;
                          sum += failure ? -1'000'000 : value;
                      }));
    context.run();
    CHECK(completed == count);
    CHECK(on_loop == count);
    CHECK(sum == static_cast<long long>(count) * (count - 1) / 2);
}
