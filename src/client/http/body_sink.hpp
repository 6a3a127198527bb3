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

    /// A final answer with `status` begins: whatever was written before belongs to an earlier
    /// attempt (cut short, or an answer that was not the last: a redirect, a 429) and is void.
    /// An error stops the answer.
    virtual error_code begin(unsigned status)
    {
        (void)status;
        return {};
    }

    /// Takes the next piece of the decoded body; an error stops the answer.
    virtual error_code write(std::string_view data) = 0;
};

/// Keeps the whole body in a string.
class string_sink final : public body_sink
{
public:
    std::string body;

    error_code begin(unsigned) override
    {
        body.clear();
        return {};
    }

    error_code write(std::string_view data) override
    {
        body.append(data);
        return {};
    }
};

/// Drops the body (of an answer that only its head matters for).
class discard_sink final : public body_sink
{
public:
    error_code write(std::string_view) override { return {}; }
};

} // namespace fxrates::detail
