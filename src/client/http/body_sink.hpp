#pragma once

// The library's own sinks for an answer's decoded body (the interface is public: fxrates/body_sink.hpp).
// The parser hands the body over piece by piece as it arrives, so it never has to hold the body
// itself; the sink decides whether to keep it, count it or stream it.

#include <fxrates/body_sink.hpp>
#include <fxrates/error.hpp>

#include <string>
#include <string_view>

namespace fxrates::detail
{

using fxrates::body_sink;

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
