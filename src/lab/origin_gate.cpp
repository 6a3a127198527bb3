#include "lab/origin_gate.hpp"

#include "client/deadline.hpp"

#include <algorithm>

namespace fxrates::detail {

origin_gate::origin_gate(const client_params& params, std::stop_token stop)
    : params_(params), stop_(stop),
      pace_(params.rate > 0 ? std::make_shared<shared_pace>(params.rate, params.burst) : nullptr),
      on_stop_(stop, std::function<void()>([this] {
          std::lock_guard hold(lock_); // so that no waiter misses it between its check and its wait
          changed_.notify_all();
      }))
{
}

origin_gate::entry origin_gate::enter(const origin& where, std::size_t index, time_point deadline)
{
    const std::size_t most = std::max<std::size_t>(params_.max_connections_per_origin, 1);
    std::unique_lock hold(lock_);
    auto& slot = origins_[where];
    if (!slot)
        slot = std::make_unique<origin_state>();
    auto& state = *slot;
    state.waiting.insert(index);
    // Whatever ends the wait, the item leaves the line, and the next one may be first now.
    struct leave_line
    {
        origin_state& state;
        std::size_t index;
        std::condition_variable& changed;
        ~leave_line()
        {
            state.waiting.erase(index);
            changed.notify_all();
        }
    } in_line{state, index, changed_};

    const auto key = pace_ ? where.text() : std::string();
    std::optional<time_point> turn;        // the item's first turn, taken when it is due
    std::optional<time_point> paced_until; // the rate's own limit, from when it first held the item
    for (;;)
    {
        if (stop_.stop_requested())
            return entry::stopped;
        const auto now = std::chrono::steady_clock::now();
        auto wake_at = deadline;
        if (state.inside < most && *state.waiting.begin() == index)
        {
            if (!pace_)
                break;
            // A turn is taken only once due, by the item first in line then: one taken on arrival
            // would go to whichever thread came first, not to the first item.
            if (!turn)
            {
                auto next = pace_->next_turn(key, now);
                if (next <= now)
                    turn = pace_->reserve(key, now); // later than `now` only if a client took it first
                else
                {
                    if (!paced_until)
                        paced_until = deadline_after(params_.queue_timeout, now);
                    if (now >= *paced_until)
                        return entry::timed_out;
                    wake_at = std::min({deadline, *paced_until, next});
                }
            }
            if (turn && now >= *turn && pace_->paused_over(key, *turn, now))
                turn = pace_->reserve(key, now); // taken before a pause a client was told of
            if (turn && now >= *turn)
                break;
            if (turn)
                wake_at = std::min(deadline, *turn);
        }
        if (now >= deadline)
            return entry::timed_out;
        // No deadline (a URL job): a plain wait, not a wait until time_point::max(), which the
        // clock conversion could overflow.
        if (wake_at == time_point::max())
            changed_.wait(hold);
        else
            changed_.wait_until(hold, wake_at);
    }
    ++state.inside;
    if (turn)
        pace_->hand_over(key, std::chrono::steady_clock::now()); // the item's first request goes at once
    return entry::granted;
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
    changed_.notify_all(); // the waiters of every origin share it: each checks its own turn
}

std::size_t origin_gate::waiting(const origin& where)
{
    std::lock_guard hold(lock_);
    auto found = origins_.find(where);
    return found == origins_.end() ? 0 : found->second->waiting.size();
}

} // namespace fxrates::detail
