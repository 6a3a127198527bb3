#pragma once

#include <fxrates/token_bucket.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
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
/// Turns are handed out in the order they are asked for. A caller that orders requests itself
/// (the lab's strategies, which start each origin's items in input order) may take a turn and wait
/// for it on its own, then `hand_over` it: the next request to that origin goes at once.
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

    /// Takes the next turn of `origin` and returns when it is (`now` or later): a turn handed
    /// over, if one waits, is `now`.
    template <class TimePoint> TimePoint reserve(std::string_view origin, TimePoint now)
    {
        std::lock_guard hold(lock_);
        auto& state = state_of(origin, now);
        if (state.handed_over > 0)
        {
            --state.handed_over;
            return now;
        }
        return from_pace<TimePoint>(state.bucket.reserve(1, to_pace(now)));
    }

    /// When the next turn of `origin` will be (`now` or later), without taking it: for a caller
    /// that waits until then and takes it only if it is still first (`reserve`).
    template <class TimePoint> TimePoint next_turn(std::string_view origin, TimePoint now)
    {
        std::lock_guard hold(lock_);
        auto& state = state_of(origin, now);
        return std::max(now, from_pace<TimePoint>(state.bucket.ready_at(1, to_pace(now))));
    }

    /// A turn the caller took (`reserve`) and waited for goes to the next request to `origin`.
    void hand_over(std::string_view origin)
    {
        std::lock_guard hold(lock_);
        if (auto found = origins_.find(std::string(origin)); found != origins_.end())
            ++found->second.handed_over; // a turn is only handed over once taken: the origin is known
    }

    /// No turns of `origin` before `until`, the first one then (a server's Retry-After).
    template <class TimePoint> void pause_until(std::string_view origin, TimePoint until)
    {
        std::lock_guard hold(lock_);
        auto& state = state_of(origin, until);
        state.bucket.pause_until(to_pace(until));
        state.paused_until = std::max(state.paused_until, to_pace(until));
    }

    /// The end of the latest pause of `origin` (the epoch if none): a turn taken before a pause
    /// and falling inside it is void, and its holder takes another.
    template <class TimePoint> TimePoint paused_until(std::string_view origin)
    {
        std::lock_guard hold(lock_);
        auto found = origins_.find(std::string(origin));
        return found == origins_.end() ? TimePoint{} : from_pace<TimePoint>(found->second.paused_until);
    }

    /// Paces `origin` at `rate` (and `burst`), a limit its server announced, but never faster
    /// than this pace's own rate. A change of rate starts the origin's bucket empty at `now`.
    template <class TimePoint>
    void limit_to(std::string_view origin, double rate, double burst, TimePoint now)
    {
        std::lock_guard hold(lock_);
        auto& state = state_of(origin, now);
        double wanted = std::min(rate, rate_);
        double wanted_burst = wanted < rate_ ? burst : burst_;
        if (wanted == state.rate && wanted_burst == state.burst)
            return; // every client sharing the pace learns the same limit: once is enough
        state.bucket = token_bucket<pace_clock>(wanted, wanted_burst, to_pace(now));
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
        std::size_t handed_over = 0;
        pace_clock::time_point paused_until{};
    };

    template <class TimePoint> static pace_clock::time_point to_pace(TimePoint at)
    {
        if (at == TimePoint::max())
            return pace_clock::time_point::max();
        return pace_clock::time_point(
            std::chrono::duration_cast<pace_clock::duration>(at.time_since_epoch()));
    }

    template <class TimePoint> static TimePoint from_pace(pace_clock::time_point at)
    {
        if (at == pace_clock::time_point::max())
            return TimePoint::max();
        return TimePoint(std::chrono::duration_cast<typename TimePoint::duration>(at.time_since_epoch()));
    }

    template <class TimePoint> origin_state& state_of(std::string_view origin, TimePoint now)
    {
        std::string key(origin);
        if (auto found = origins_.find(key); found != origins_.end())
            return found->second;
        origin_state fresh{token_bucket<pace_clock>(rate_, burst_, to_pace(now)), rate_, burst_};
        return origins_.emplace(std::move(key), std::move(fresh)).first->second;
    }

    const double rate_;
    const double burst_;
    std::mutex lock_;
    std::unordered_map<std::string, origin_state> origins_;
};

} // namespace fxrates
