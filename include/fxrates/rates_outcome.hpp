#pragma once

#include <fxrates/currency.hpp>
#include <fxrates/diagnostics.hpp>
#include <fxrates/error.hpp>
#include <fxrates/rates.hpp>
#include <fxrates/request_timing.hpp>

#include <cstddef>
#include <functional>
#include <string>

namespace fxrates {

/// What became of one base currency in a batch: its rates, or the error that stopped it.
struct rates_outcome
{
    /// The base currency asked for.
    currency_code base;

    /// Success when empty; then `value` holds the rates.
    error_code error;

    /// Why it failed, when it did: our explanation and the server's (untrusted) text.
    diagnostics diag;

    /// The rates, when `error` is empty.
    rates value;

    /// When each phase of the request happened (of the last attempt).
    request_timing timing;

    /// Requests sent for this base: 1, or more after retries, 429s and redirects (0 if it never
    /// got that far).
    unsigned attempts = 0;

    /// 429 answers met on the way (each waited for its Retry-After, and cost no retry).
    unsigned rate_limited = 0;

    /// Redirects followed on the way.
    unsigned redirects = 0;

    /// Requests sent again at once because a reused keep-alive connection was closed unanswered
    /// (counted in `attempts`, costing no retry).
    unsigned resent = 0;

    /// The server answered something (so a failure is not "cannot reach").
    bool server_answered = false;

    /// The URL that gave the final answer, after redirects (empty if none came).
    std::string final_url;

    bool ok() const noexcept { return !error; }
};

/// Told of each base of a batch as it ends: its index in the batch's input and its outcome. For
/// progress displays and streamed output, which must not wait for the whole batch. It runs on the
/// batch's executor (or, in the lab's threaded strategies, on the thread that finished the base),
/// once per base, before the batch completes; it must be quick and must not throw.
using outcome_observer = std::function<void(std::size_t index, const rates_outcome& outcome)>;

} // namespace fxrates
