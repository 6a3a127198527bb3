#pragma once

#include <fxrates/currency.hpp>
#include <fxrates/error.hpp>
#include <fxrates/rates_outcome.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace fxrates::detail {

/// Fetches one base; never throws, reports failures in the outcome.
using fetch_function = std::function<boost::asio::awaitable<rates_outcome>(currency_code)>;

struct batch_result
{
    /// Set only when the batch itself was cancelled.
    error_code error;
    /// One per base, in input order.
    std::vector<rates_outcome> outcomes;
};

/// Why a base failed at the batch's time limit: "no answer within the batch time limit of 30000 ms",
/// "not started within ..." when its request had not begun, or "still held back by the server's
/// rate limit within ..." when the server had answered it with `rate_limited` 429s.
std::string batch_deadline_message(bool started, std::chrono::steady_clock::duration time_limit,
                                   unsigned rate_limited = 0);

/// Runs `fetch` for every base with at most `workers` at once, and gathers the outcomes in input
/// order whatever the order they finish in. Bases not finished within `time_limit` get
/// `errc::batch_deadline`; if the awaiting coroutine is cancelled, they get `operation_aborted`.
/// `observe` (if set) is told of each base once, as it ends, the unfinished ones included, before
/// this completes. Independent of any transport, so that it is tested on its own.
boost::asio::awaitable<batch_result> run_batch(std::vector<currency_code> bases, std::size_t workers,
                                               std::chrono::steady_clock::duration time_limit, fetch_function fetch,
                                               outcome_observer observe = {});

} // namespace fxrates::detail
