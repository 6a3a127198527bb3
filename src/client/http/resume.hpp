#pragma once

// Sans-io pieces of resuming a download: which validator goes in If-Range, and the fields that ask
// for the rest of a body. The fetcher decides when to use them.

#include <fxrates/body_sink.hpp>

#include "client/http/transport.hpp"

#include <cstdint>
#include <string>

namespace fxrates::detail {

/// The `If-Range` value for `point`: its ETag if it is a well-formed strong entity tag, else its
/// Last-Modified date if it is printable ASCII; empty if neither, and then the request must not
/// resume. A weak ETag is never used: If-Range compares strongly (RFC 9110 13.1.5), so a weak one
/// would never match. The text was a server's, so nothing that could end a header line passes.
std::string if_range_validator(const resume_point& point);

/// Whether `fields` (a caller's own) ask for a range already (`Range` or `If-Range`): then the
/// caller manages ranges and the client does not resume.
bool asks_for_range(const request_fields& fields);

/// Whether `fields` make the request conditional (`If-None-Match` or `If-Modified-Since`): only
/// then may the answer be a 304.
bool is_conditional(const request_fields& fields);

/// `fields` plus `Range: bytes=OFFSET-` and `If-Range: VALIDATOR`.
request_fields with_resume_fields(const request_fields& fields, std::uint64_t offset, std::string validator);

} // namespace fxrates::detail
