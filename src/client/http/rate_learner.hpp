#pragma once

// What an origin's answers tell about its rate limit, so that the client paces itself instead of
// collecting 429s. Sans-io: the caller passes the time and the answers' fields.
//
// The real API allows 2 requests/s with a burst of 4 and says so in a 429's `X-RateLimit-Limit`
// and `X-RateLimit-Burst`; the limit is read as requests per second, or N per W seconds when
// written `N;w=W` (the IETF RateLimit draft's policy syntax), and paced 2% under it, one request
// at a time; a 429 at that pace lowers it by a tenth. Without those fields the client
// guesses from its own history: the answers it got in the last second before the first 429, then
// half the pace at each further 429 of a request sent at that pace (429s of requests sent before
// the pace was set say nothing about it). A pace recovers: after 8 answers in a row without a 429
// it goes up by half, up to the announced limit's pace (a guessed one has no ceiling: the first
// guess counts one second's answers, and a run's first second may have had only a few). So a
// server whose 429s are not about the pace (a fault, a brief overload) does not slow a run for
// good: the pace halved at each such 429 and never rose again, and 100 requests took minutes.

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <string_view>

namespace fxrates::detail {

template <class Clock>
class rate_learner
{
public:
    using time_point = typename Clock::time_point;

    struct pace
    {
        double rate = 0;  ///< requests per second
        double burst = 1; ///< at once after an idle spell
    };

    /// An answer other than 429 came. Returns a faster pace to keep when the one kept has gone
    /// long enough without a 429 and is below its ceiling.
    std::optional<pace> on_answer(time_point now)
    {
        recent_.push_back(now);
        forget_before(now - std::chrono::seconds(1));
        if (!current_ || current_->rate >= ceiling_ || ++answers_at_pace_ < recovery_answers)
            return std::nullopt;
        return set({std::min(current_->rate * 1.5, ceiling_), current_->burst}, now);
    }

    /// A 429 came for a request granted at `granted`, with the answer's `X-RateLimit-Limit` and
    /// `X-RateLimit-Burst` values if it had them. Returns the pace to keep from now on if it
    /// changed.
    std::optional<pace> on_rate_limited(std::optional<std::string_view> limit_field,
                                        std::optional<std::string_view> burst_field, time_point granted,
                                        time_point now)
    {
        ++rate_limited_;
        if (auto announced = limit_field ? parse_limit(*limit_field) : std::nullopt)
        {
            // The burst is not used to go faster: after a 429 the server's allowance is spent.
            // One request at a time a little under the announced rate (2%: 10 ms at 2/s) leaves
            // room for requests that reach the server a little unevenly.
            (void)burst_field;
            if (announced_ != *announced)
            {
                announced_ = *announced;
                ceiling_ = std::clamp(*announced / (1 + slack), min_rate, max_rate);
                return set({ceiling_, 1}, now);
            }
            if (granted <= paced_since_)
                return std::nullopt; // sent before the pace was set: it says nothing about it
            // Met the limit at that pace all the same: the server counts differently; slow down.
            return set({std::max(current_->rate * 0.9, min_rate), 1}, now);
        }
        if (!current_)
        {
            // The answers per second over the last second, or over as much of it as there was: a
            // run's first 429 may come a few milliseconds in, after a few answers (counted over a
            // whole second, 3 answers in 3 ms were a pace of 3/s).
            forget_before(now - std::chrono::seconds(1));
            double window = recent_.empty() ? 1.0
                                            : std::clamp(std::chrono::duration<double>(now - recent_.front()).count(),
                                                         0.05, 1.0);
            return set({std::max(1.0, static_cast<double>(recent_.size()) / window), 1}, now);
        }
        if (granted <= paced_since_)
            return std::nullopt; // sent before the pace was set: it says nothing about the pace
        return set({std::max(current_->rate / 2, min_rate), 1}, now);
    }

    /// Whether the pace comes from the server's own `X-RateLimit-Limit`, rather than a guess from
    /// this client's answers (which, when other clients share the origin's pace, are not all of them).
    bool announced() const noexcept { return announced_ > 0; }

    /// The pace learned so far, if any.
    const std::optional<pace>& current() const noexcept { return current_; }

    /// 429s met so far.
    std::size_t rate_limited() const noexcept { return rate_limited_; }

    /// "2", "2.5", "100;w=60" (100 per 60 s): requests per second, if the text is one of those.
    static std::optional<double> parse_limit(std::string_view text)
    {
        auto number = [](std::string_view part) -> std::optional<double> {
            while (!part.empty() && (part.front() == ' ' || part.front() == '\t'))
                part.remove_prefix(1);
            while (!part.empty() && (part.back() == ' ' || part.back() == '\t'))
                part.remove_suffix(1);
            double value = 0;
            auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
            if (ec != std::errc() || end != part.data() + part.size() || !(value > 0) || value > 1e6)
                return std::nullopt;
            return value;
        };
        auto semicolon = text.find(';');
        auto count = number(text.substr(0, semicolon));
        if (!count)
            return std::nullopt;
        if (semicolon == std::string_view::npos)
            return count;
        auto window = text.substr(semicolon + 1);
        while (!window.empty() && window.front() == ' ')
            window.remove_prefix(1);
        if (window.substr(0, 2) != "w=")
            return std::nullopt;
        auto seconds = number(window.substr(2));
        if (!seconds)
            return std::nullopt;
        return *count / *seconds;
    }

private:
    static constexpr double min_rate = 0.1; // one request per 10 s: slower helps no one
    static constexpr double max_rate = 1000;  // faster is no limit worth pacing
    static constexpr double slack = 0.02;   // paced this much under an announced limit
    static constexpr std::size_t recovery_answers = 8; // answers in a row without a 429 before speeding up

    std::optional<pace> set(pace chosen, time_point now)
    {
        // Whatever a server announces, a pace stays within what a token bucket can keep.
        chosen.rate = std::clamp(chosen.rate, min_rate, max_rate);
        current_ = chosen;
        paced_since_ = now;
        answers_at_pace_ = 0;
        return chosen;
    }

    void forget_before(time_point oldest)
    {
        while (!recent_.empty() && recent_.front() < oldest)
            recent_.pop_front();
        // Only a count is needed: no more than one second's worth is kept, and never unbounded.
        while (recent_.size() > 4096)
            recent_.pop_front();
    }

    std::deque<time_point> recent_; // answers in the last second
    std::optional<pace> current_;
    double announced_ = 0; // the last X-RateLimit-Limit seen, as requests per second
    time_point paced_since_{};
    double ceiling_ = max_rate;       // the pace it never goes above: the announced limit's, if any
    std::size_t answers_at_pace_ = 0; // answers since the pace was last set
    std::size_t rate_limited_ = 0;
};

} // namespace fxrates::detail
