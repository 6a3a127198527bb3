#include "server/http_date.hpp"

#include <array>
#include <cctype>
#include <chrono>

namespace fxrates::detail {

namespace {

constexpr std::array<std::string_view, 12> month_names = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> day_names = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> long_day_names = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                            "Friday", "Saturday", "Sunday"};

// A cursor over the field value: each step consumes what it matched, or fails.
class reader
{
public:
    explicit reader(std::string_view text) : rest_(text) {}

    bool literal(std::string_view expected)
    {
        if (!rest_.starts_with(expected))
            return false;
        rest_.remove_prefix(expected.size());
        return true;
    }

    // Exactly `digits` digits (or, with `space_padded`, a space then one digit less).
    bool number(int digits, int& value, bool space_padded = false)
    {
        if (space_padded && rest_.starts_with(' '))
        {
            rest_.remove_prefix(1);
            --digits;
        }
        if (rest_.size() < static_cast<std::size_t>(digits))
            return false;
        value = 0;
        for (int i = 0; i < digits; ++i)
        {
            if (!std::isdigit(static_cast<unsigned char>(rest_[i])))
                return false;
            value = value * 10 + (rest_[i] - '0');
        }
        rest_.remove_prefix(static_cast<std::size_t>(digits));
        return true;
    }

    template <std::size_t N>
    bool one_of(const std::array<std::string_view, N>& names, int* index = nullptr)
    {
        for (std::size_t i = 0; i < N; ++i)
            if (literal(names[i]))
            {
                if (index)
                    *index = static_cast<int>(i);
                return true;
            }
        return false;
    }

    bool time_of_day(int& hours, int& minutes, int& seconds)
    {
        return number(2, hours) && literal(":") && number(2, minutes) && literal(":") && number(2, seconds);
    }

    bool at_end() const noexcept { return rest_.empty(); }

private:
    std::string_view rest_;
};

std::optional<std::time_t> instant(int year, int month_index, int day, int hours, int minutes, int seconds)
{
    using namespace std::chrono;
    year_month_day date{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month_index + 1)},
                        std::chrono::day{static_cast<unsigned>(day)}};
    // 60 is a leap second, which an HTTP date may name.
    if (!date.ok() || hours > 23 || minutes > 59 || seconds > 60)
        return std::nullopt;
    auto at = sys_days{date} + std::chrono::hours{hours} + std::chrono::minutes{minutes} +
              std::chrono::seconds{seconds};
    return static_cast<std::time_t>(at.time_since_epoch().count());
}

} // namespace

std::string format_http_date(std::time_t seconds)
{
    std::tm parts{};
    gmtime_r(&seconds, &parts);
    char text[64];
    std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &parts);
    return text;
}

std::optional<std::time_t> parse_http_date(std::string_view text) noexcept
{
    int year = 0, month = 0, day = 0, hours = 0, minutes = 0, seconds = 0;
    {
        reader in(text); // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
        if (in.one_of(day_names) && in.literal(", ") && in.number(2, day) && in.literal(" ") &&
            in.one_of(month_names, &month) && in.literal(" ") && in.number(4, year) && in.literal(" ") &&
            in.time_of_day(hours, minutes, seconds) && in.literal(" GMT") && in.at_end())
            return instant(year, month, day, hours, minutes, seconds);
    }
    {
        reader in(text); // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
        if (in.one_of(long_day_names) && in.literal(", ") && in.number(2, day) && in.literal("-") &&
            in.one_of(month_names, &month) && in.literal("-") && in.number(2, year) && in.literal(" ") &&
            in.time_of_day(hours, minutes, seconds) && in.literal(" GMT") && in.at_end())
            // A two-digit year more than 50 years ahead is in the past century (RFC 9110 5.6.7).
            return instant(year < 70 ? 2000 + year : 1900 + year, month, day, hours, minutes, seconds);
    }
    {
        reader in(text); // asctime: Sun Nov  6 08:49:37 1994
        if (in.one_of(day_names) && in.literal(" ") && in.one_of(month_names, &month) && in.literal(" ") &&
            in.number(2, day, true) && in.literal(" ") && in.time_of_day(hours, minutes, seconds) &&
            in.literal(" ") && in.number(4, year) && in.at_end())
            return instant(year, month, day, hours, minutes, seconds);
    }
    return std::nullopt;
}

} // namespace fxrates::detail
