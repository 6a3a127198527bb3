#pragma once

#include <fxrates/client_params.hpp>
#include <fxrates/currency.hpp>
#include <fxrates/fetch_outcome.hpp>
#include <fxrates/rates_outcome.hpp>
#include <fxrates/rates_query.hpp>

#include <chrono>
#include <memory>
#include <stop_token>

namespace fxrates {

/// A blocking rates client, the counterpart of Python's `requests`: `get_rates` (and `fetch`, for
/// any URL) returns when the answer is there, blocking the calling thread. For threads, processes and the offload bridge.
///
/// It keeps its own keep-alive connection between calls, and every phase has the time limits of
/// `client_params` (it runs the asynchronous client on a private event loop, so verification,
/// timeouts and errors are the same as `client`'s).
///
/// Thread safety: none; give each thread its own.
class blocking_client
{
public:
    /// Throws as `client::client` does.
    explicit blocking_client(client_params params);
    ~blocking_client();

    blocking_client(blocking_client&&) noexcept;
    blocking_client& operator=(blocking_client&&) noexcept;

    /// Fetches the rates of one base; never throws for network or API errors (they are in the
    /// outcome). Throws (`boost::system::system_error`) only when its event loop cannot be set up,
    /// e.g. with no file descriptor left (EMFILE) for the loop's reactor; nothing is left under way
    /// then, and the client can be used again.
    rates_outcome get_rates(currency_code base, const rates_query& query = {});

    /// As above, but no later than `deadline` (e.g. a batch's): a request still under way then is
    /// abandoned, and the outcome is `errc::batch_deadline`. A request under way when `stop` is
    /// requested (from any thread) is abandoned at once: `operation_aborted`.
    ///
    /// One thing can outlast both: a DNS lookup, which no resolver can cancel. The call returns on
    /// time, but the client's destructor waits for the lookup to end (Asio joins its resolver
    /// thread).
    rates_outcome get_rates(currency_code base, const rates_query& query,
                            std::chrono::steady_clock::time_point deadline, std::stop_token stop = {});

    /// Fetches one URL, as `client::async_fetch` does (the body goes to `item.sink`, or into the
    /// outcome's `body` without one), no later than `deadline`, abandoned at once on `stop`: the
    /// counterpart of `requests.get(url)`. Errors and time limits as for `get_rates`; the sink is
    /// called on the calling thread, before this returns. A request abandoned at the deadline is
    /// `errc::batch_deadline`, by a stop `operation_aborted`; what the sink had then received is
    /// the caller's to discard.
    fetch_outcome fetch(fetch_item item,
                        std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max(),
                        std::stop_token stop = {});

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace fxrates
