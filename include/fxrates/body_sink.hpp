#pragma once

// Where a fetched body goes, as it arrives: the client never holds a body it streams to a sink, so
// memory does not grow with the body's size.

#include <fxrates/error.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fxrates {

/// What a final answer's head says about its body, for a sink that keeps or resumes downloads.
/// Server text (`etag`, `last_modified`) is untrusted.
struct body_head
{
    /// The answer's status (200, 206, 404...).
    unsigned status = 0;

    /// Where this answer's first byte goes in the whole body: 0, or the first byte of a 206's
    /// `Content-Range`. When the client resumed the sink's download (see `body_sink::resume_from`),
    /// it is exactly the offset the sink offered, and the sink keeps what it holds and appends.
    std::uint64_t offset = 0;

    /// The whole body's size when the answer says it: a `Content-Range`'s complete length, else the
    /// `Content-Length` of an answer without a content coding.
    std::optional<std::uint64_t> total_size;

    /// Where a 206's bytes end in the whole body (one past the last byte of its `Content-Range`).
    /// The client ends a 206 that sends more with an error, and one that sends less as cut short.
    std::optional<std::uint64_t> range_end;

    /// The answer's `ETag` and `Last-Modified`, as sent (empty when absent).
    std::string etag;
    std::string last_modified;

    /// The body came with a `Content-Encoding` other than `identity` (the sink still gets it decoded).
    bool encoded = false;

    /// The answer has `Accept-Ranges: bytes`.
    bool accepts_ranges = false;
};

/// What a sink already holds of an earlier answer's body (from an earlier attempt of the same
/// request, or from an earlier run), so that the client asks only for the rest.
struct resume_point
{
    /// Bytes held: the first byte to ask for.
    std::uint64_t offset = 0;

    /// The validators of the answer those bytes came from (its `body_head::etag` and
    /// `last_modified`). The client sends a strong ETag as `If-Range`, or else the Last-Modified
    /// date; a weak ETag (`W/"..."`) is never used (RFC 9110 13.1.5). With neither, it does not resume.
    std::string etag;
    std::string last_modified;

    /// The whole body's size, as the answer those bytes came from gave it (`body_head::total_size`),
    /// if it did: a 206 that gives another complete length is not the same body, and one that ends
    /// before it is not the whole rest.
    std::optional<std::uint64_t> total_size{};
};

/// Receives an answer's decoded body, in order, in pieces of any size, on the client's executor.
///
/// A request may be answered more than once (a retry after a connection cut mid-body): each final
/// answer starts with `begin`. Answers the client handles itself (redirects it follows, 429s,
/// retried 502/503/504, a 416 to a resumed request) never reach the sink.
///
/// Resuming: a sink that can keep what it holds overrides `resume_from`. Before each attempt (the
/// first one too) the client asks it; when it offers bytes and a usable validator, the request asks
/// for the rest (`Range: bytes=OFFSET-`, `If-Range`, `Accept-Encoding: identity`). The answer's
/// `begin` then says with `body_head::offset` whether the sink keeps its bytes (offset == the
/// offset it offered: a 206 for the rest) or starts over (offset 0: the resource changed, or the
/// server ignores ranges). A sink without `resume_from` is never resumed: each answer starts over.
class body_sink
{
public:
    virtual ~body_sink() = default;

    /// A final answer begins: the sink keeps the first `head.offset` bytes it holds and voids the
    /// rest (so with offset 0, everything written before). An error stops the answer (and fails the
    /// request). The default calls `begin(head.status)`, for sinks written before resuming came.
    virtual error_code begin(const body_head& head) { return begin(head.status); }

    /// A final answer with `status` begins and voids whatever was written before; an error stops
    /// the answer (and fails the request). Called only by the default `begin(const body_head&)`.
    virtual error_code begin(unsigned status)
    {
        (void)status;
        return {};
    }

    /// Takes the next piece of the decoded body; an error stops the answer (and fails the request).
    virtual error_code write(std::string_view data) = 0;

    /// What the sink holds of an earlier answer, to continue from; none (the default) to start
    /// from the first byte. Asked before each attempt of a request.
    virtual std::optional<resume_point> resume_from() const { return std::nullopt; }
};

} // namespace fxrates
