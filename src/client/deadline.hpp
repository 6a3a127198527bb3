#pragma once

// Deadlines from durations that may be huge: `duration::max()` as "no limit" must not overflow
// the clock (a signed count) into a deadline in the past.

#include <chrono>
#include <cstdio>
#include <string>

namespace fxrates::detail {

/// `from + length`, or the clock's last time point if that does not fit.
inline std::chrono::steady_clock::time_point deadline_after(std::chrono::steady_clock::duration length,
                                                            std::chrono::steady_clock::time_point from =
                                                                std::chrono::steady_clock::now())
{
    if (length <= std::chrono::steady_clock::duration::zero())
        return from;
    if (from.time_since_epoch() > std::chrono::steady_clock::duration::max() - length)
        return std::chrono::steady_clock::time_point::max();
    return from + length;
}

/// A duration for messages: "0.25 s", "30 s", "86400 s" (whole seconds from 100 s on, never
/// in exponent form).
inline std::string seconds_text(std::chrono::steady_clock::duration duration)
{
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
    char text[32];
    if (ms >= 100'000)
        std::snprintf(text, sizeof text, "%lld s", static_cast<long long>(ms / 1000));
    else
        std::snprintf(text, sizeof text, "%.3g s", static_cast<double>(ms) / 1000.0);
    return text;
}

/// A limit for messages: "the request timeout (30 s)".
inline std::string limit_text(const char* name, std::chrono::steady_clock::duration length)
{
    return std::string("the ") + name + " (" + seconds_text(length) + ")";
}

/// Why a request that the rate limit held past `limit` (a `limit_text`) failed, and what to do.
/// `rate_limited`: the answers 429 it had; `host_rate_limited`: those its host gave any request.
/// After one, the pace was the server's, and a higher rate of our own would not help.
inline std::string rate_limit_held_message(const std::string& limit, unsigned rate_limited = 0,
                                           unsigned host_rate_limited = 0)
{
    auto answers = [](unsigned count) { return std::to_string(count) + (count == 1 ? " answer" : " answers") + " 429"; };
    const std::string advice = "; raise the timeout, or send fewer requests to this server";
    if (rate_limited > 0)
        return "the server's rate limit held the request past " + limit + " (after " + answers(rate_limited) +
               " to it)" + advice;
    if (host_rate_limited > 0)
        return "the server's rate limit held the request past " + limit + " (it gave " + answers(host_rate_limited) +
               " to other requests)" + advice;
    return "the rate limit held the request past " + limit + "; raise the rate or the timeout, or send fewer requests";
}

/// A deadline and the limit that sets it, for the message if it passes.
struct named_deadline
{
    std::chrono::steady_clock::time_point at = std::chrono::steady_clock::time_point::max();
    const char* name = "request timeout";         ///< e.g. "connect timeout"
    std::chrono::steady_clock::duration length{}; ///< the limit's own length, e.g. 10 s

    /// "the connect timeout (10 s)": made only when a message needs it.
    std::string text() const { return limit_text(name, length); }

    /// The deadline that comes first; on a tie, `outer` (the one that bounds the other).
    static named_deadline earlier(const named_deadline& inner, const named_deadline& outer)
    {
        return inner.at < outer.at ? inner : outer;
    }
};

/// The end of a phase that may last `length` from now, within `outer`, and which limit it is.
inline named_deadline phase_limit(const char* name, std::chrono::steady_clock::duration length,
                                  const named_deadline& outer)
{
    return named_deadline::earlier({deadline_after(length), name, length}, outer);
}

} // namespace fxrates::detail
