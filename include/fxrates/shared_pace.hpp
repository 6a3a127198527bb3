#pragma once

#include <fxrates/token_bucket.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace fxrates
{

/// A rate per origin that several clients keep together, on any threads
/// (`client_params::shared_pace`): every request of every client that holds it, retries, resends
/// after a 429 and redirect hops included, takes its turn from one token bucket per origin
/// (scheme, host, port), `rate` a second, starting empty. A server's Retry-After pauses the
/// origin for all of them, and a limit it announces slows all of them. Without it, N clients on
/// N threads each keep the rate for themselves: N times the rate in all.
///
/// Turns are handed out in the order they are asked for (`take_turn`). A caller that orders
/// requests itself (the lab's strategies, which start each origin's items in input order) may
/// take a turn with `reserve`, wait for it on its own, then `hand_over` it: the next request to
/// that origin goes at once.
///
/// Time points may be of any clock, as long as one pace sees one clock (tests use a manual one).
///
/// Thread safety: every member may be called from any thread.
class shared_pace
{
public:
    /// `rate` requests a second per origin (> 0), at most `burst` at once after an idle spell (0:
    /// one second's worth). Throws `std::invalid_argument` as `token_bucket` does.
    explicit shared_pace(double rate, double burst = 0) : rate_(rate), burst_(burst)
    {
        token_bucket<pace_clock> check(rate, burst, {}); // the same checks, at once
    }

    shared_pace(const shared_pace&) = delete;
    shared_pace& operator=(const shared_pace&) = delete;

    /// The turn of a request to `origin` (`now` or later), which it then takes: a turn handed over
    /// within the last second, if one waits and no pause came since, goes at once.
    template <class TimePoint>
    TimePoint take_turn(std::string_view origin, TimePoint now)
    {
        std::lock_guard hold(lock_);
        auto& state = state_of(origin, now);
        const auto at = to_pace(now);
        // A turn handed over and not taken within a second belonged to a request that never came
        // (stopped on the way): it is not a free turn for ever after.
        while (!state.handed_over.empty() && at - state.handed_over.front() > std::chrono::seconds(1))
            state.handed_over.pop_front();
        if (!state.handed_over.empty())
        {
            bool paused_since = state.paused_until > state.handed_over.front() && at < state.paused_until;
            state.handed_over.pop_front();
            if (!paused_since)
                return now;
        }
        return book(state, at, now);
    }

    /// Takes the next turn of `origin`, never a handed-over one, and returns when it is (`now` or
    /// later): for a caller that waits for it itself and then `hand_over`s it.
    template <class TimePoint>
    TimePoint reserve(std::string_view origin, TimePoint now)
    {
        std::lock_guard hold(lock_);
        return book(state_of(origin, now), to_pace(now), now);
    }

    /// When the next turn of `origin` will be (`now` or later), without taking it: for a caller
    /// that waits until then and takes it only if it is still first (`reserve`).
    template <class TimePoint>
    TimePoint next_turn(std::string_view origin, TimePoint now)
    {
        std::lock_guard hold(lock_);
        auto& state = state_of(origin, now);
        return std::max(now, from_pace<TimePoint>(state.bucket.ready_at(1, to_pace(now))));
    }

    /// A turn the caller took (`reserve`) and waited for goes to the next request to `origin`
    /// that takes its turn (`take_turn`) within a second.
    template <class TimePoint>
    void hand_over(std::string_view origin, TimePoint now)
    {
        std::lock_guard hold(lock_);
        state_of(origin, now).handed_over.push_back(to_pace(now));
    }

    /// No turns of `origin` before `until`, the first one then (a server's Retry-After).
    template <class TimePoint>
    void pause_until(std::string_view origin, TimePoint until)
    {
        std::lock_guard hold(lock_);
        auto& state = state_of(origin, until);
        state.bucket.pause_until(to_pace(until));
        state.paused_until = std::max(state.paused_until, to_pace(until));
    }

    /// Whether `turn`, taken earlier, is void at `now`: it falls in a pause of `origin` that came
    /// after it was taken and has not ended. Its holder takes another.
    template <class TimePoint>
    bool paused_over(std::string_view origin, TimePoint turn, TimePoint now)
    {
        std::lock_guard hold(lock_);
        auto found = origins_.find(std::string(origin));
        if (found == origins_.end())
            return false;
        const auto pause_end = found->second.paused_until;
        return to_pace(turn) < pause_end && to_pace(now) < pause_end;
    }

    /// Paces `origin` at `rate` (and `burst`), a limit its server announced, but never faster
    /// than this pace's own rate. Turns already taken keep their times; new ones follow them, and
    /// any pause, at the new rate.
    template <class TimePoint>
    void limit_to(std::string_view origin, double rate, double burst, TimePoint now)
    {
        std::lock_guard hold(lock_);
        auto& state = state_of(origin, now);
        double wanted = std::min(rate, rate_);
        double wanted_burst = wanted < rate_ ? burst : burst_;
        if (wanted == state.rate && wanted_burst == state.burst)
            return; // every client sharing the pace learns the same limit: once is enough
        const auto at = to_pace(now);
        token_bucket<pace_clock> paced(wanted, wanted_burst, at);
        auto next = std::max(state.paused_until, state.booked_until + paced.interval());
        if (next > at)
            paced.pause_until(next);
        state.bucket = paced;
        state.rate = wanted;
        state.burst = wanted_burst;
    }

    /// The rate a second per origin, before any server's limit.
    double rate() const noexcept { return rate_; }

private:
    // The bucket's own clock: only its time point type is used, never `now()`.
    struct pace_clock
    {
        using duration = std::chrono::nanoseconds;
        using rep = duration::rep;
        using period = duration::period;
        using time_point = std::chrono::time_point<pace_clock>;
        static constexpr bool is_steady = true;
    };

    struct origin_state
    {
        token_bucket<pace_clock> bucket;
        double rate;
        double burst;
        std::deque<pace_clock::time_point> handed_over; // when each turn waiting to be taken was handed over
        pace_clock::time_point paused_until{};
        pace_clock::time_point booked_until{}; // the latest turn taken
    };

    template <class TimePoint>
    static TimePoint book(origin_state& state, pace_clock::time_point at, TimePoint now)
    {
        auto turn = state.bucket.reserve(1, at);
        if (turn != pace_clock::time_point::max())
            state.booked_until = std::max(state.booked_until, turn);
        return std::max(now, from_pace<TimePoint>(turn));
    }

    template <class TimePoint>
    static pace_clock::time_point to_pace(TimePoint at)
    {
        if (at == TimePoint::max())
            return pace_clock::time_point::max();
        return pace_clock::time_point(std::chrono::duration_cast<pace_clock::duration>(at.time_since_epoch()));
    }

    // Rounded up: a turn on a coarser clock never comes before its time.
    template <class TimePoint>
    static TimePoint from_pace(pace_clock::time_point at)
    {
        if (at == pace_clock::time_point::max())
            return TimePoint::max();
        return TimePoint(std::chrono::ceil<typename TimePoint::duration>(at.time_since_epoch()));
    }

    template <class TimePoint>
    origin_state& state_of(std::string_view origin, TimePoint now)
    {
        std::string key(origin);
        if (auto found = origins_.find(key); found != origins_.end())
            return found->second;
        origin_state fresh{token_bucket<pace_clock>(rate_, burst_, to_pace(now)), rate_, burst_, {}, {}, {}};
        return origins_.emplace(std::move(key), std::move(fresh)).first->second;
    }

    const double rate_;
    const double burst_;
    std::mutex lock_;
    std::unordered_map<std::string, origin_state> origins_;
};

} // namespace fxrates
