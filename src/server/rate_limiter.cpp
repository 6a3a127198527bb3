#include "server/rate_limiter.hpp"

#include <algorithm>

namespace fxrates::detail {

rate_limiter::rate_limiter(double rate, unsigned burst)
    : interval_(std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(1.0 / rate))),
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
