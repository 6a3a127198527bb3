#pragma once

#include <fxrates/currency.hpp>
#include <fxrates/error.hpp>
#include <fxrates/fetch_outcome.hpp>
#include <fxrates/rates_outcome.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
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
