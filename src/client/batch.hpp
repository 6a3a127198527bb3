#pragma once

#include <fxrates/currency.hpp>
#include <fxrates/error.hpp>
#include <fxrates/fetch_outcome.hpp>
#include <fxrates/rates_outcome.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace fxrates::detail {

/// What a batch gives back.
template <class Outcome>
struct basic_batch_result
{
    /// Set only when the batch itself was cancelled.
    error_code error;
    /// One per item, in input order.
    std::vector<Outcome> outcomes;
};

/// How an item of a pulled batch ended.
enum class item_end
{
    finished,  ///< its task returned in time
    stopped,   ///< the time limit passed while it ran (its outcome says what had happened)
    cancelled, ///< the batch was cancelled while it ran
    failed,    ///< its task threw (the outcome is a default one)
};

/// One item's work in a pulled batch.
template <class Outcome>
using batch_task = std::function<boost::asio::awaitable<Outcome>()>;

/// What `take` gives a pulled batch: the next item's task; `pending`, when the next item is not
/// there yet (the caller then calls the batch's waker once it may be); or neither: no more items.
template <class Outcome>
struct pulled_item
{
    std::optional<batch_task<Outcome>> task;
    bool pending = false;
};

/// Tells a pulled batch that `take` may have an item now. Callable from any thread, any number of
/// times, while the batch's execution context exists; it does nothing once the batch has ended.
using batch_waker = std::function<void()>;

/// The items of a pulled batch, asked for one at a time.
template <class Outcome>
using batch_take = std::function<pulled_item<Outcome>(std::size_t index, const batch_waker& wake)>;

/// How a pulled batch ended.
struct pulled_batch_end
{
    bool cancelled = false;   ///< the awaiting coroutine was cancelled
    bool stopped = false;     ///< the time limit passed
    std::size_t taken = 0;    ///< items `take` gave
};

/// The core of every batch: workers pull the items one at a time, so that a batch of N items costs
/// as many coroutines as workers, and a list read as it goes is read only as fast as it is fetched
/// (back-pressure: `take` runs only when a worker is free).
///
/// `take(index, wake)` is called with 0, 1, 2, ... whenever one of the `workers` is free, and returns
/// the item's task, or nothing when there are no more (it is not called again after that), or
/// `pending`: the free workers then wait, without blocking the thread, until `wake` is called (a
/// list read from a pipe by another thread). The same index is asked again after a `pending`. `finish` is
/// told of every item taken, once, as it ends (saying how), before this completes; the items never
/// taken are the caller's to account for. With a `window` (0: none), an item starts only while its
/// index is less than the oldest unfinished one's plus `window`: a caller that hands outcomes on in
/// input order then holds at most `window` of them, whatever stalls. Past `time_limit`, or when the awaiting coroutine is
/// cancelled, the running tasks are cancelled and awaited. Neither `take` nor `finish` may throw.
template <class Outcome>
boost::asio::awaitable<pulled_batch_end>
run_pulled_batch(std::size_t workers, std::size_t window, std::chrono::steady_clock::duration time_limit,
                 batch_take<Outcome> take, std::function<void(std::size_t index, Outcome outcome, item_end how)> finish);

extern template boost::asio::awaitable<pulled_batch_end>
run_pulled_batch(std::size_t, std::size_t, std::chrono::steady_clock::duration,
                 batch_take<rates_outcome>,
                 std::function<void(std::size_t, rates_outcome, item_end)>);
extern template boost::asio::awaitable<pulled_batch_end>
run_pulled_batch(std::size_t, std::size_t, std::chrono::steady_clock::duration,
                 batch_take<fetch_outcome>,
                 std::function<void(std::size_t, fetch_outcome, item_end)>);

/// Runs `fetch(index)` for every item with at most `workers` at once, and gathers the outcomes in
/// input order whatever the order they finish in. `outcomes` comes in with one outcome per item,
/// holding what names the item (its base, its URL), which an unfinished item keeps. Items not
/// finished within `time_limit` get `errc::batch_deadline`; if the awaiting coroutine is cancelled,
/// they get `operation_aborted`. `observe` (if set) is told of each item once, as it ends, the
/// unfinished ones included, before this completes. `fetch` must not throw; it reports failures in
/// its outcome. Independent of any transport, so that it is tested on its own.
///
/// `Outcome` has `error`, `diag`, `attempts`, `rate_limited`, `server_answered` and `timing`:
/// `rates_outcome` and `fetch_outcome`, the two batches of the client, which both run here.
template <class Outcome>
boost::asio::awaitable<basic_batch_result<Outcome>>
run_ordered_batch(std::vector<Outcome> outcomes, std::size_t workers, std::chrono::steady_clock::duration time_limit,
                  std::function<boost::asio::awaitable<Outcome>(std::size_t index)> fetch,
                  std::function<void(std::size_t index, const Outcome&)> observe = {});

extern template boost::asio::awaitable<basic_batch_result<rates_outcome>>
run_ordered_batch(std::vector<rates_outcome>, std::size_t, std::chrono::steady_clock::duration,
                  std::function<boost::asio::awaitable<rates_outcome>(std::size_t)>,
                  std::function<void(std::size_t, const rates_outcome&)>);
extern template boost::asio::awaitable<basic_batch_result<fetch_outcome>>
run_ordered_batch(std::vector<fetch_outcome>, std::size_t, std::chrono::steady_clock::duration,
                  std::function<boost::asio::awaitable<fetch_outcome>(std::size_t)>,
                  std::function<void(std::size_t, const fetch_outcome&)>);

/// Fetches one base; never throws, reports failures in the outcome.
using fetch_function = std::function<boost::asio::awaitable<rates_outcome>(currency_code)>;

using batch_result = basic_batch_result<rates_outcome>;

/// Why a base failed at the batch's time limit: "no answer within the batch time limit of 30000 ms",
/// "not started within ..." when its request had not begun, or "still held back by the server's
/// rate limit within ..." when the server had answered it with `rate_limited` 429s.
std::string batch_deadline_message(bool started, std::chrono::steady_clock::duration time_limit,
                                   unsigned rate_limited = 0);

/// The rates batch: `run_ordered_batch` over `bases`, each outcome named by its base.
boost::asio::awaitable<batch_result> run_batch(std::vector<currency_code> bases, std::size_t workers,
                                               std::chrono::steady_clock::duration time_limit, fetch_function fetch,
                                               outcome_observer observe = {});

} // namespace fxrates::detail
