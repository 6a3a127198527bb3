#pragma once

// A deliberately simple HTTPS client for testing the look-alike server at the protocol level:
// raw bytes, exact statuses and headers. Every call runs its own io_context with a hard deadline,
// so a server that hangs makes the test fail instead of hanging it.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace fxrates::test {

/// Raised when an operation does not finish before its deadline.
struct deadline_exceeded : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

struct http_reply
{
    unsigned status = 0;
    std::map<std::string, std::string> headers; // names in lower case
    std::string body;
    bool keep_alive = false;

    std::string header(const std::string& lower_case_name) const
    {
        auto it = headers.find(lower_case_name);
        return it == headers.end() ? std::string() : it->second;
    }
};

/// How a raw read ended.
enum class raw_end
{
    byte_limit,   ///< the byte limit was reached; the connection may still be open
    close_notify, ///< the server ended TLS with close_notify, then closed
    truncated,    ///< the TCP connection closed without TLS close_notify
    reset,        ///< the connection was reset
};

/// The bytes of an answer as they came, and how the reading ended.
struct raw_answer
{
    std::string bytes;
    raw_end end = raw_end::byte_limit;
};

/// Selects the plain-HTTP constructor of `tls_connection`.
struct plain_http_t
{
};
inline constexpr plain_http_t plain_http{};

/// One TLS connection to 127.0.0.1:port, verifying the server against `ca_pem` for `host_name`;
/// or, made with `plain_http`, a plain TCP connection speaking HTTP without TLS (then a clean close
/// reads as `raw_end::close_notify`).
class tls_connection
{
public:
    tls_connection(std::uint16_t port, const std::string& ca_pem, std::string host_name = "localhost",
                   std::chrono::milliseconds deadline = std::chrono::seconds(10));
    tls_connection(plain_http_t, std::uint16_t port,
                   std::chrono::milliseconds deadline = std::chrono::seconds(10));
    ~tls_connection();

    /// Sends one request and reads the response; throws on a transport error.
    http_reply request(std::string_view method, std::string_view target, std::string_view extra_headers = {});

    /// Sends bytes as they are, inside TLS.
    void write_raw(std::string_view bytes);

    /// Reads one response; throws on a transport error.
    http_reply read_reply(bool head_request = false);

    /// Reads one response (not to a HEAD) of any length, handing its body to `piece` as it comes, a
    /// piece of at most 64 KiB at a time, without keeping it: the reply's `body` stays empty.
    http_reply read_reply_in_pieces(const std::function<void(std::string_view)>& piece);

    /// Reads raw bytes (first any that an earlier read left buffered) until the server closes the
    /// connection or `byte_limit` bytes have come (no more are returned); throws `deadline_exceeded`
    /// at the deadline and `system_error` on another transport error.
    raw_answer read_raw(std::size_t byte_limit = 1 << 20);

    /// Sends `method target HTTP/1.1` with `Host: localhost` and `extra_headers` (each line ended by
    /// CRLF), then reads as `read_raw`.
    raw_answer request_raw(std::string_view method, std::string_view target, std::string_view extra_headers = {},
                           std::size_t byte_limit = 1 << 20);

    /// True if the server closes the connection (after anything it still sends) within the deadline.
    bool wait_until_closed_by_server();

private:
    struct state;
    std::unique_ptr<state> state_;
};

/// What one whole gzip member inflates to; throws `std::runtime_error` if `compressed` is not
/// exactly one valid gzip member, or inflates to more than `limit` bytes.
std::string gunzip(std::string_view compressed, std::size_t limit = 16 << 20);

/// What a gzip member inflates to, counted piece by piece without keeping it (for bombs).
struct inflated_count
{
    std::uint64_t bytes = 0;
    bool all_zero = true;
    bool complete = false; ///< the member ended, with a correct CRC and length
};

/// Inflates `compressed` as far as it goes, counting.
inflated_count gunzip_count(std::string_view compressed);

/// `GET target` (or another method) on a fresh connection.
http_reply https_request(std::uint16_t port, const std::string& ca_pem, std::string_view target,
                         std::string_view method = "GET");

/// Opens `connections` TLS connections at once, all kept open, and sends `requests_each` GETs of
/// `target` on each, one after another. Returns how many answers were 200. Throws on a deadline.
std::size_t concurrent_keep_alive_gets(std::uint16_t port, const std::string& ca_pem, std::string_view target,
                                       std::size_t connections, std::size_t requests_each,
                                       std::chrono::milliseconds deadline);

/// Connects with plain TCP, writes `bytes` and reports whether the server closed the connection
/// within the deadline (what it answers is read and discarded).
bool plain_tcp_write_then_closed(std::uint16_t port, std::string_view bytes,
                                 std::chrono::milliseconds deadline = std::chrono::seconds(10));

} // namespace fxrates::test
