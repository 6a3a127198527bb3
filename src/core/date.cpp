#include <fxrates/date.hpp>

#include <cstdio>

namespace fxrates {

namespace {

bool read_digits(std::string_view text, int& value) noexcept
{
    value = 0;
    for (char c : text)
    {
        if (c < '0' || c > '9')
            return false;
        value = value * 10 + (c - '0');
    }
    return true;
}

} // namespace

std::optional<std::chrono::year_month_day> parse_iso_date_fields(std::string_view text) noexcept
{
    if (text.size() != 10 || text[4] != '-' || text[7] != '-')
        return std::nullopt;
    int year = 0, month = 0, day = 0;
    if (!read_digits(text.substr(0, 4), year) || !read_digits(text.substr(5, 2), month) ||
        !read_digits(text.substr(8, 2), day))
        return std::nullopt;
    return std::chrono::year_month_day{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                                       std::chrono::day{static_cast<unsigned>(day)}};
}

std::optional<std::chrono::year_month_day> parse_iso_date(std::string_view text) noexcept
{
    auto fields = parse_iso_date_fields(text);
    if (!fields || !fields->ok())
        return std::nullopt;
    return fields;
}

std::string to_iso_string(std::chrono::year_month_day date)
{
    char text[16];
    std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
    return text;
}

} // namespace fxrates
