#pragma once

// A body sink for tests: records the statuses of the answers begun and the body of the last one.

#include <fxrates/body_sink.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace fxrates::test {

class recording_sink final : public fxrates::body_sink
{
public:
    fxrates::error_code begin(unsigned status) override
    {
        statuses.push_back(status);
        body.clear();
        return {};
    }

    fxrates::error_code write(std::string_view data) override
    {
        ++writes;
        body.append(data);
        return {};
    }

    std::vector<unsigned> statuses;
    std::string body;
    std::size_t writes = 0;
};

} // namespace fxrates::test
