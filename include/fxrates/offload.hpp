#pragma once

#include <fxrates/detail/offload_state.hpp>
#include <fxrates/error.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/post.hpp>

#include <memory>
#include <type_traits>

namespace fxrates {

/// The completion signature of `async_offload` for a function returning `Result`:
/// `void(error_code, Result)`, or `void(error_code)` for `void`.
template <class Result>
struct offload_signature
{
    using type = void(error_code, Result);
};

template <>
struct offload_signature<void>
{
    using type = void(error_code);
};

template <class Result>
using offload_signature_t = typename offload_signature<Result>::type;

/// Runs `function` on `pool` (e.g. an `asio::thread_pool`'s executor) and completes on the
/// caller's side, like Python's `loop.run_in_executor`: blocking or CPU-heavy work leaves the
/// event loop, and its result comes back to it.
///
/// Completion signature: `void(error_code, R)` for a function returning `R` (which must be
/// default-constructible), `void(error_code)` for `void`. With the default token, `co_await`
/// returns the value or throws `system_error`. A `system_error` thrown by the function arrives as
/// its code; any other exception as `errc::offload_exception` (catch inside the function to keep
/// more). Error codes rather than an `exception_ptr`, because Boost 1.81 cannot `co_await` a
/// deferred operation whose signature is `void(std::exception_ptr, T)`.
///
/// Executor: the handler runs on its associated executor (a coroutine's, for `co_await`), never on
/// a pool thread; give a plain callback one with `asio::bind_executor`. Work guards keep the
/// caller's executor busy until the handler has run, and the pool until the function starts. The
/// loop never blocks. If the pool is shut down before the function runs, the handler completes
/// with `operation_aborted` when the pool destroys the job; until then the caller's executor stays
/// busy, as for any operation still pending.
///
/// Cancellation (terminal, partial): abandons the wait: the handler completes at once with
/// `operation_aborted`. **The function still runs to its end on the pool, and its result is
/// discarded.** Total cancellation is not supported (it would promise that nothing happened).
///
/// Thread safety: may be called from any thread.
template <class PoolExecutor, class Function, class Result = std::invoke_result_t<std::decay_t<Function>&>,
          boost::asio::completion_token_for<offload_signature_t<Result>> CompletionToken = boost::asio::deferred_t>
auto async_offload(const PoolExecutor& pool, Function&& function, CompletionToken&& token = CompletionToken{})
{
    static_assert(std::is_void_v<Result> || std::is_default_constructible_v<Result>,
                  "async_offload needs a default-constructible result to complete a cancelled wait");
    auto initiation = [](auto handler, const PoolExecutor& pool, std::decay_t<Function> job) {
        using state_type = detail::offload_state<decltype(handler), Result, PoolExecutor>;
        auto state = std::make_shared<state_type>(std::move(handler), pool);
        auto slot = boost::asio::get_associated_cancellation_slot(state->handler());
        if (slot.is_connected())
            slot.assign([weak = std::weak_ptr<state_type>(state)](boost::asio::cancellation_type type) {
                // Not for `total` alone: that promises no side effects, and the job's still happen.
                using boost::asio::cancellation_type;
                if ((type & (cancellation_type::terminal | cancellation_type::partial)) == cancellation_type::none)
                    return;
                if (auto self = weak.lock())
                    state_type::abandon(self);
            });
        boost::asio::post(pool, detail::offload_job<state_type, std::decay_t<Function>>(state, std::move(job)));
    };
    return boost::asio::async_initiate<CompletionToken, offload_signature_t<Result>>(
        initiation, token, pool, std::forward<Function>(function));
}

} // namespace fxrates
