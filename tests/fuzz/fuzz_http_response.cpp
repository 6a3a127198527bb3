// libFuzzer target: the bytes of an HTTP response as the client reads them, fed in pieces as the
// network delivers them, through the client's own parser and content decoder with small limits,
// then Retry-After and the decoder of the body.

#include <fxrates/decode.hpp>
#include <fxrates/retry_policy.hpp>

#include "client/http/response_parser.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace fxrates::detail;
    string_sink body;
    // Small limits, so that the fuzzer reaches them; the first byte picks a HEAD request.
    response_parser parser(response_limits{4096, 64 * 1024}, body, size > 0 && data[0] == 'H');
    const char* text = reinterpret_cast<const char*>(data);
    std::size_t offset = 0;
    while (offset < size && !parser.done() && !parser.error())
    {
        std::size_t piece = std::min<std::size_t>(size - offset, 1 + (data[offset] % 64));
        std::size_t used = parser.feed(std::string_view(text + offset, piece));
        if (used < piece && !parser.done() && !parser.error())
            __builtin_trap(); // it takes everything until the end of the answer or an error
        offset += used;
        if (used < piece)
            break;
    }
    if (!parser.done() && !parser.error())
        parser.feed_eof();
    if (parser.body_bytes() > 64 * 1024 || body.body.size() != parser.body_bytes())
        __builtin_trap(); // the limit holds, and the sink got exactly what was counted
    if (!parser.head_done())
        return 0;
    (void)fxrates::parse_retry_after(parser.head().find("retry-after").value_or(""),
                                     std::chrono::system_clock::now());
    if (parser.done())
    {
        fxrates::rates value;
        fxrates::diagnostics diag;
        (void)fxrates::decode_rates(body.body, value, diag);
        (void)fxrates::extract_error_message(body.body);
    }
    return 0;
}
