// libFuzzer target: the bytes of an HTTP response as the client reads them (header block, body,
// Retry-After), through Beast's parser with the client's limits and then the decoder.

#include <fxrates/decode.hpp>
#include <fxrates/retry_policy.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    namespace http = boost::beast::http;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1024 * 1024);
    parser.eager(true);
    boost::beast::error_code ec;
    std::size_t offset = 0;
    // Fed in pieces, as the network delivers it.
    while (offset < size && !ec && !parser.is_done())
    {
        std::size_t piece = std::min<std::size_t>(size - offset, 1 + (data[offset] % 64));
        std::size_t used = parser.put(boost::asio::buffer(data + offset, piece), ec);
        if (ec == http::error::need_more)
        {
            ec = {};
            if (used == 0 && piece == size - offset)
                break;
        }
        offset += used == 0 ? piece : used;
    }
    if (!parser.is_header_done())
        return 0;
    const auto& response = parser.get();
    auto retry_after = response[http::field::retry_after];
    (void)fxrates::parse_retry_after(std::string_view(retry_after.data(), retry_after.size()),
                                     std::chrono::system_clock::now());
    if (parser.is_done())
    {
        fxrates::rates value;
        fxrates::diagnostics diag;
        (void)fxrates::decode_rates(response.body(), value, diag);
        (void)fxrates::extract_error_message(response.body());
    }
    return 0;
}
