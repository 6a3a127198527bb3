#pragma once

// A deliberately simple HTTPS client for testing the look-alike server at the protocol level:
// raw bytes, exact statuses and headers. Every call runs its own io_context with a hard deadline,
// so a server that hangs makes the test fail instead of hanging it.

#include <chrono>
#include <cstdint>
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

/// One TLS connection to 127.0.0.1:port, verifying the server against `ca_pem` for `host_name`.
class tls_connection
{
public:
    tls_connection(std::uint16_t port, const std::string& ca_pem, std::string host_name = "localhost",
                   std::chrono::milliseconds deadline = std::chrono::seconds(10));
    ~tls_connection();

    /// Sends one request and reads the response; throws on a transport error.
    http_reply request(std::string_view method, std::string_view target, std::string_view extra_headers = {});

    /// Sends bytes as they are, inside TLS.
    void write_raw(std::string_view bytes);

    /// Reads one response; throws on a transport error.
    http_reply read_reply(bool head_request = false);

    /// True if the server closes the connection (after anything it still sends) within the deadline.
    bool wait_until_closed_by_server();

private:
    struct state;
    std::unique_ptr<state> state_;
};

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
