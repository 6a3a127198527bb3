#pragma once

// Where a fetched body goes, as it arrives: the client never holds a body it streams to a sink, so
// memory does not grow with the body's size.

#include <fxrates/error.hpp>

#include <string_view>

namespace fxrates {

/// Receives an answer's decoded body, in order, in pieces of any size, on the client's executor.
///
/// A request may be answered more than once (a retry after a connection cut mid-body): each final
/// answer starts with `begin`, which voids whatever was written before. Answers the client handles
/// itself (redirects it follows, 429s, retried 502/503/504) never reach the sink.
class body_sink
{
public:
    virtual ~body_sink() = default;

    /// A final answer with `status` begins; an error stops the answer (and fails the request).
    virtual error_code begin(unsigned status)
    {
        (void)status;
        return {};
    }

    /// Takes the next piece of the decoded body; an error stops the answer (and fails the request).
    virtual error_code write(std::string_view data) = 0;
};

} // namespace fxrates
