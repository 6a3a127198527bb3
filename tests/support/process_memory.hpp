#pragma once

// This process's memory, from /proc/self/status. An in-process server's memory is part of it.

#include <fstream>
#include <stdexcept>
#include <string>

namespace fxrates::test {

/// A line of /proc/self/status, in KiB: `VmRSS` now, `VmHWM` its peak. Throws if there is none.
inline std::size_t status_kib(const std::string& name)
{
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.starts_with(name + ":"))
            return std::stoul(line.substr(name.size() + 1));
    throw std::runtime_error("no " + name + " in /proc/self/status");
}

} // namespace fxrates::test
