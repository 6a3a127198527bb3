#include "lab/measure.hpp"

#include <sys/resource.h>

#include <exception>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

namespace fxrates::detail {

namespace {

double seconds_of(const rusage& usage)
{
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// A number from /proc/<pid>/status: "Threads:  3" or "VmHWM:  11204 kB".
std::optional<long> status_value(const std::string& path, std::string_view field)
{
    std::ifstream status(path);
    std::string line;
    while (std::getline(status, line))
        if (line.rfind(field, 0) == 0)
        {
            try
            {
                return std::stol(line.substr(field.size()));
            }
            catch (const std::exception&)
            {
                return std::nullopt;
            }
        }
    return std::nullopt;
}

} // namespace

double cpu_seconds(bool children)
{
    rusage self{};
    getrusage(RUSAGE_SELF, &self);
    double total = seconds_of(self);
    if (children)
    {
        rusage waited{};
        getrusage(RUSAGE_CHILDREN, &waited);
        total += seconds_of(waited);
    }
    return total;
}

std::size_t thread_count()
{
    return static_cast<std::size_t>(status_value("/proc/self/status", "Threads:").value_or(1));
}

std::size_t thread_count_of(pid_t pid)
{
    return static_cast<std::size_t>(status_value("/proc/" + std::to_string(pid) + "/status", "Threads:").value_or(0));
}

long peak_rss_kib()
{
    if (auto peak = status_value("/proc/self/status", "VmHWM:"))
        return *peak;
    rusage self{};
    getrusage(RUSAGE_SELF, &self);
    return self.ru_maxrss;
}

long peak_rss_kib_of(pid_t pid)
{
    return status_value("/proc/" + std::to_string(pid) + "/status", "VmHWM:").value_or(0);
}

} // namespace fxrates::detail
