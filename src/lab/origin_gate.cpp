#include "lab/origin_gate.hpp"

#include "client/deadline.hpp"

#include <algorithm>
#include <functional>

namespace fxrates::detail {

origin_gate::origin_gate(const client_params& params, std::stop_token stop)
    : params_(params), stop_(stop), on_stop_(stop, std::function<void()>([this] {
          // Wakes the threads that wait for a rate: closing a throttle ends its waits.
          std::lock_guard hold(lock_);
          for (auto& [where, state] : origins_)
              if (state->pace)
                  state->pace->close();
      }))
{
}

origin_gate::origin_state& origin_gate::state_of(const origin& where)
{
    auto& state = origins_[where];
    if (!state)
    {
        state = std::make_unique<origin_state>();
        if (params_.rate > 0)
        {
            state->pace.emplace(params_.rate, params_.burst);
            if (stop_.stop_requested())
                state->pace->close();
        }
    }
    return *state;
}

origin_gate::entry origin_gate::enter(const origin& where, time_point deadline)
{
    const std::size_t most = std::max<std::size_t>(params_.max_connections_per_origin, 1);
    std::unique_lock hold(lock_);
    auto& state = state_of(where);
    // condition_variable_any's stop-token waits: a stop wakes them at once. No deadline (a URL job):
    // a plain wait, not a wait until time_point::max(), which the clock conversion could overflow.
    auto has_room = [&] { return state.inside < most; };
    bool room = deadline == time_point::max() ? room_.wait(hold, stop_, has_room)
                                               : room_.wait_until(hold, stop_, deadline, has_room);
    if (stop_.stop_requested())
        return entry::stopped;
    if (!room)
        return entry::timed_out;
    ++state.inside;
    if (!state.pace)
        return entry::granted;
    auto& pace = *state.pace;
    hold.unlock(); // the throttle has its own lock and queue
    auto waited = pace.acquire_until(std::min(deadline, deadline_after(params_.queue_timeout)));
    if (waited == blocking_throttle::acquire_result::granted)
        return entry::granted;
    leave(where);
    return waited == blocking_throttle::acquire_result::closed || stop_.stop_requested() ? entry::stopped
                                                                                         : entry::timed_out;
}

void origin_gate::leave(const origin& where)
{
    {
        std::lock_guard hold(lock_);
        auto found = origins_.find(where);
        if (found == origins_.end() || found->second->inside == 0)
            return;
        --found->second->inside;
    }
    room_.notify_all(); // the waiters of every origin share it: each checks its own room
}

} // namespace fxrates::detail
