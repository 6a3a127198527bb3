#pragma once

// What the threads of a strategy share so that, together, they keep the client's limits per origin
// as one asynchronous client does: at most `client_params::max_connections_per_origin` requests
// under way to an origin, and at most `client_params::rate` a second to it, however many threads
// there are. Each thread's blocking client keeps those limits for itself alone: without the gate,
// 50 threads made 50 connections to one host at 50 times the rate asked for.

#include <fxrates/blocking_throttle.hpp>
#include <fxrates/client_params.hpp>

#include "client/http/origin.hpp"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <unordered_map>

namespace fxrates::detail {

class origin_gate
{
public:
    using time_point = std::chrono::steady_clock::time_point;

    /// Whether a thread may send its request.
    enum class entry
    {
        granted,   ///< it may; it calls `leave` once the request has ended
        stopped,   ///< the strategy was asked to stop
        timed_out, ///< the rate limit would pass the deadline, or the client's queue timeout, first
    };

    /// The limits of `params`; a stop requested on `stop` ends every wait at once.
    origin_gate(const client_params& params, std::stop_token stop);

    origin_gate(const origin_gate&) = delete;
    origin_gate& operator=(const origin_gate&) = delete;

    /// Waits until `where` has room for one more request and its rate allows it, or until
    /// `deadline` (the batch's): room is waited for without a time limit (the requests under way
    /// end within theirs), the rate within the client's queue timeout, as the client's own throttle.
    entry enter(const origin& where, time_point deadline);

    /// A request that `enter` let go has ended.
    void leave(const origin& where);

private:
    struct origin_state
    {
        std::size_t inside = 0;
        std::optional<blocking_throttle> pace; // with a rate only
    };

    origin_state& state_of(const origin& where); // under `lock_`

    const client_params& params_;
    std::stop_token stop_;
    std::mutex lock_;
    std::condition_variable_any room_;
    // Node-based: a thread keeps a reference to its origin's state while it waits.
    std::unordered_map<origin, std::unique_ptr<origin_state>, origin_hash> origins_;
    std::stop_callback<std::function<void()>> on_stop_;
};

} // namespace fxrates::detail
