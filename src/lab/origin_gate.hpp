#pragma once

// What the threads of a strategy share so that, together, they keep the client's limits per origin
// as one asynchronous client does: at most `client_params::max_connections_per_origin` items
// under way to an origin, at most `client_params::rate` requests a second to it, and its items
// started in input order, however many threads there are. Each thread's blocking client keeps
// those limits for itself alone: without the gate, 50 threads made 50 requests at once to one host
// at 50 times the rate asked for. (The threads' idle keep-alive connections are their own: the gate
// bounds items under way, not connections open.)
//
// The rate is a `shared_pace` that the threads' clients hold too (`threads_client`), so that every
// request keeps it, retries and redirect hops included; the gate takes each item's first turn, in
// input order, and hands it over to the client that sends the item.

#include <fxrates/client_params.hpp>
#include <fxrates/shared_pace.hpp>

#include "client/http/origin.hpp"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stop_token>
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
        timed_out, ///< the deadline passed, or the rate held it past the client's queue timeout
    };

    /// The limits of `params`; a stop requested on `stop` ends every wait at once.
    origin_gate(const client_params& params, std::stop_token stop);

    origin_gate(const origin_gate&) = delete;
    origin_gate& operator=(const origin_gate&) = delete;

    /// Waits until item `index` (its place in the input) may go to `where`: the origin has room,
    /// no earlier item of it waits, and its rate allows one more; or until `deadline` (the
    /// batch's). Room is waited for without a time limit of its own (the requests under way end
    /// within theirs); the rate within the client's queue timeout, as the client's own throttle.
    entry enter(const origin& where, std::size_t index, time_point deadline);

    /// A request that `enter` let go has ended.
    void leave(const origin& where);

    /// The rate the threads' clients share with the gate (`client_params::shared_pace`); null
    /// without a rate.
    const std::shared_ptr<shared_pace>& pace() const noexcept { return pace_; }

    /// The items waiting to go to `where` (for tests and monitoring).
    std::size_t waiting(const origin& where);

private:
    struct origin_state
    {
        std::size_t inside = 0;
        std::set<std::size_t> waiting; // the items waiting, by place: the first goes first
    };

    const client_params& params_;
    std::stop_token stop_;
    std::shared_ptr<shared_pace> pace_;
    std::mutex lock_;
    std::condition_variable changed_; // a leave, a place taken, or the stop
    // Node-based: a waiting thread keeps a reference to its origin's state.
    std::unordered_map<origin, std::unique_ptr<origin_state>, origin_hash> origins_;
    std::stop_callback<std::function<void()>> on_stop_;
};

} // namespace fxrates::detail
