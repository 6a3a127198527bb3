#include <fxrates/retry_policy.hpp>

#include <boost/asio/error.hpp>

#include <ctime>
#include <string>

namespace fxrates {

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now)
{
    if (value.empty() || value.size() > 64)
        return std::nullopt;
    // Values are capped at a day: enough for any real server, and far from any overflow.
    constexpr auto longest = std::chrono::seconds(24 * 60 * 60);
    bool digits = true;
    for (char c : value)
        digits = digits && c >= '0' && c <= '9';
    if (digits)
    {
        if (value.size() > 9)
            return longest; // beyond any real wait: the cap, not "no Retry-After"
        long long seconds = 0;
        for (char c : value)
            seconds = seconds * 10 + (c - '0');
        return std::min(std::chrono::seconds(seconds), longest);
    }
    std::string text(value);
    std::tm parts{};
    const char* end = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &parts);
    if (!end || *end != '\0')
        return std::nullopt;
    // Years far from now would overflow the clock's nanoseconds: the cap says all there is to say.
    if (parts.tm_year + 1900 < 1970 || parts.tm_year + 1900 > 2200)
        return parts.tm_year + 1900 < 1970 ? std::chrono::seconds(0) : longest;
    auto at = std::chrono::system_clock::from_time_t(::timegm(&parts));
    auto until = std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()) -
                 std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch());
    return std::clamp(until, std::chrono::seconds(0), longest);
}

bool retry_policy::is_retryable(const error_code& error) noexcept
{
    namespace asio = boost::asio;
    if (!error || error == condition::cancelled || error == errc::batch_deadline)
        return false;
    if (error.category() == http_category())
        return error == condition::rate_limited || error == condition::transient;
    // A connection that failed or closed early may work the next time (condition::connection);
    // anything else of ours (a bad answer, a limit, a redirect) would fail again.
    if (error == condition::connection || error == condition::timeout)
        return true;
    // Certificates do not fix themselves; other TLS failures are in the SSL category too.
    return false;
}

} // namespace fxrates
