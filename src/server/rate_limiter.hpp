#pragma once

#include <chrono>
#include <string>
#include <unordered_map>

namespace fxrates::detail {

/// A per-client GCRA limiter (generic cell rate algorithm), as the real API uses: `rate` requests
/// per second on average, at most `burst` at once. Sans-io: the caller passes the time.
///
/// GCRA keeps one "theoretical arrival time" per client instead of a bucket level; a request is
/// allowed while that time stays within `burst` emission intervals of now.
class rate_limiter
{
public:
    using clock = std::chrono::steady_clock;

    /// The rates and bursts allowed; at the extremes the tolerance (1000 s times 10^6) still fits.
    static constexpr double min_rate = 0.001;
    static constexpr double max_rate = 1e6;
    static constexpr unsigned max_burst = 1000000;

    /// Throws `std::invalid_argument` if `rate` (requests per second, NaN included) or `burst` is
    /// out of range.
    rate_limiter(double rate, unsigned burst);

    /// `rate`, if it and `burst` are in range; otherwise throws as the constructor does.
    static double checked_rate(double rate, unsigned burst);

    struct decision
    {
        bool allowed;
        /// When not allowed: how long until this client's next request would be.
        clock::duration retry_after;
    };

    decision check(const std::string& client, clock::time_point now);

    /// Number of clients remembered; idle ones are forgotten as the map grows.
    std::size_t tracked_clients() const noexcept { return arrival_.size(); }

private:
    void forget_idle(clock::time_point now);

    clock::duration interval_;
    clock::duration tolerance_;
    std::unordered_map<std::string, clock::time_point> arrival_;
    std::size_t prune_at_ = 1024;
};

} // namespace fxrates::detail
