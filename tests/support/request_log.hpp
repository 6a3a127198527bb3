#pragma once

// The in-process server's request log (`server_params::log_request`), kept for a test to read: the
// server writes it on its own thread, the test reads it on its own.

#include <fxrates/server/server_params.hpp>

#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fxrates::test {

class request_log
{
public:
    /// Makes `params` log here; the log must outlive the server.
    void attach(server_params& params)
    {
        params.log_request = [this](std::string_view line) {
            std::lock_guard lock(mutex_);
            lines_.emplace_back(line);
        };
    }

    /// The lines logged since the last call.
    std::vector<std::string> take()
    {
        std::lock_guard lock(mutex_);
        return std::exchange(lines_, {});
    }

private:
    std::mutex mutex_;
    std::vector<std::string> lines_;
};

} // namespace fxrates::test
