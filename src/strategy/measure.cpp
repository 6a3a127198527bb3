#include "strategy/measure.hpp"

#include <sys/resource.h>

#include <fstream>
#include <string>

namespace fxrates::detail {

namespace {

double seconds_of(const rusage& usage)
{
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
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
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("Threads:", 0) == 0)
            return static_cast<std::size_t>(std::stoul(line.substr(8)));
    return 1;
}

long peak_rss_kib()
{
    rusage self{};
    getrusage(RUSAGE_SELF, &self);
    return self.ru_maxrss;
}

} // namespace fxrates::detail
