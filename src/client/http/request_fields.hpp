#pragma once

// The fields a caller adds to a request, as the layers below the client pass them on.

#include <memory>
#include <string>
#include <vector>

namespace fxrates::detail {

/// A field of a request (owning, unlike the parser's views of an answer's fields).
struct request_field
{
    std::string name;
    std::string value;
};

/// Fields a request adds to the transport's own (Host, User-Agent, Accept-Encoding). Shared and
/// immutable: a caller sends the same fields with every request, and retries and redirects resend
/// them, so they are made once, not copied per request.
using request_fields = std::shared_ptr<const std::vector<request_field>>;

} // namespace fxrates::detail
