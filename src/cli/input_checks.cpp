#include "cli/input_checks.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <sys/stat.h>
#include <unistd.h>

namespace fxrates::cli {

namespace {

// 1000000 rather than 1e+06, 0.001 as it is.
std::string show(double x)
{
    char text[32];
    std::snprintf(text, sizeof text, std::fabs(x) < 1e15 && x == std::floor(x) ? "%.0f" : "%g", x);
    return text;
}

} // namespace

std::string check_number(const std::string& text, const number_range& range)
{
    // An excluded minimum is in `what` ("a positive number"): the range then gives the maximum.
    std::string allowed = range.min_excluded ? "up to " + show(range.max)
                                             : "from " + show(range.min) + " to " + show(range.max);
    const char* begin = text.c_str();
    char* end = nullptr;
    errno = 0;
    double value = text.empty() ? NAN : std::strtod(begin, &end);
    bool parsed = !text.empty() && end == begin + text.size() && errno == 0;
    bool inside = parsed && std::isfinite(value) && (range.min_excluded ? value > range.min : value >= range.min) &&
                  value <= range.max;
    if (inside)
        return {};
    return "'" + text + "' is not " + std::string(range.what) + " " + allowed;
}

CLI::Validator finite_number(const number_range& range)
{
    return CLI::Validator([range](const std::string& text) { return check_number(text, range); },
                          std::string("NUMBER in ") + (range.min_excluded ? "(" : "[") + show(range.min) + " - " +
                              show(range.max) + "]");
}

std::optional<std::chrono::steady_clock::duration> to_duration(double seconds)
{
    using duration = std::chrono::steady_clock::duration;
    // The largest count a double can hold below the duration's limit: the comparison itself is
    // done in double, where the limit rounds up to 2^63.
    constexpr double limit = static_cast<double>(duration::max().count() / duration::period::den * duration::period::num);
    if (!std::isfinite(seconds) || std::fabs(seconds) >= limit)
        return std::nullopt;
    return std::chrono::duration_cast<duration>(std::chrono::duration<double>(seconds));
}

std::string check_regular_file(const std::string& path)
{
    struct stat status{};
    if (::stat(path.c_str(), &status) != 0)
        return "'" + path + "': " + std::strerror(errno);
    if (!S_ISREG(status.st_mode))
        return "'" + path + "' is not a regular file" + (S_ISDIR(status.st_mode) ? " (a directory)" : "");
    if (::access(path.c_str(), R_OK) != 0)
        return "'" + path + "': " + std::strerror(errno);
    return {};
}

CLI::Validator regular_file()
{
    return CLI::Validator(check_regular_file, "FILE");
}

CLI::Validator not_empty(std::string_view what)
{
    return CLI::Validator(
        [what = std::string(what)](const std::string& text) -> std::string {
            return text.empty() ? "the value is empty; give " + what : std::string{};
        },
        "");
}

std::optional<std::vector<std::string>> split_list(const std::string& text, std::string& why)
{
    std::vector<std::string> items;
    std::size_t start = 0;
    for (;;)
    {
        auto comma = text.find(',', start);
        items.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (comma == std::string::npos)
            break;
        start = comma + 1;
    }
    bool all_empty = true;
    bool some_empty = false;
    for (const auto& item : items)
    {
        all_empty = all_empty && item.empty();
        some_empty = some_empty || item.empty();
    }
    if (all_empty)
        why = "'" + text + "': the list is empty";
    else if (some_empty)
        why = "'" + text + "' has an empty element; separate the items with single commas";
    else
        return items;
    return std::nullopt;
}

} // namespace fxrates::cli
