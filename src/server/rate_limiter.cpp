#include "server/rate_limiter.hpp"

#include <algorithm>
#include <stdexcept>

namespace fxrates::detail {

// Checked before the interval is computed: outside the range, 1 / rate in nanoseconds (or the
// interval times the burst) would not fit the clock's integer, and the cast would be undefined.
double rate_limiter::checked_rate(double rate, unsigned burst)
{
    if (!(rate >= rate_limiter::min_rate && rate <= rate_limiter::max_rate))
        throw std::invalid_argument("the rate limit must be 0 (no limit) or from 0.001 to 1000000 requests per "
                                    "second");
    if (burst > rate_limiter::max_burst)
        throw std::invalid_argument("the burst must be at most 1000000 requests");
    return rate;
}

rate_limiter::rate_limiter(double rate, unsigned burst)
    : interval_(std::chrono::duration_cast<clock::duration>(
          std::chrono::duration<double>(1.0 / checked_rate(rate, burst)))),
      tolerance_(interval_ * static_cast<long>(std::max(burst, 1u)))
{
}

rate_limiter::decision rate_limiter::check(const std::string& client, clock::time_point now)
{
    if (arrival_.size() >= prune_at_)
        forget_idle(now);
    auto [it, inserted] = arrival_.try_emplace(client, now);
    clock::time_point next = std::max(it->second, now) + interval_;
    if (next - now > tolerance_)
        return {false, next - tolerance_ - now};
    it->second = next;
    return {true, {}};
}

void rate_limiter::forget_idle(clock::time_point now)
{
    // A client whose arrival time has passed has a full burst again: same as never seen.
    std::erase_if(arrival_, [now](const auto& entry) { return entry.second <= now; });
    prune_at_ = std::max<std::size_t>(1024, arrival_.size() * 2);
}

} // namespace fxrates::detail
