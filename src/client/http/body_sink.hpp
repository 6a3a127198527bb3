#pragma once

// Where an answer's decoded body goes. The parser hands the body over piece by piece as it arrives,
// so it never has to hold the body itself; the sink decides whether to keep it, count it or stream it.

#include <fxrates/error.hpp>

#include <string>
#include <string_view>

namespace fxrates::detail
{

/// Receives an answer's decoded body, in order, in pieces of any size.
class body_sink
{
public:
    virtual ~body_sink() = default;

    /// Takes the next piece of the decoded body; an error stops the answer.
    virtual error_code write(std::string_view data) = 0;
};

/// Keeps the whole body in a string.
class string_sink final : public body_sink
{
public:
    std::string body;

    error_code write(std::string_view data) override
    {
        body.append(data);
        return {};
    }
};

} // namespace fxrates::detail
