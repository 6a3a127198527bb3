#include <fxrates/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>

#include <string>

namespace fxrates {

namespace {

class client_category_impl final : public boost::system::error_category
{
public:
    const char* name() const noexcept override { return "fxrates.client"; }

    std::string message(int value) const override
    {
        switch (static_cast<errc>(value))
        {
        case errc::bad_response:
            return "The server's answer is not the one asked for; check that the URL points at the right "
                   "server (for rates, at a rates API).";
        case errc::bad_api_url:
            return "The API URL is not valid; expected https://host[:port][/path].";
        case errc::batch_deadline:
            return "The batch did not finish in time; raise the batch time limit or lower the load.";
        case errc::client_closed:
            return "The client was closed before the request finished.";
        case errc::worker_failed:
            return "The worker (a thread or a process) failed before it answered; see the details.";
        case errc::offload_exception:
            return "The offloaded function threw an exception; catch it inside the function to report more.";
        case errc::bad_http:
            return "The server's answer is not valid HTTP/1.1; check that the URL points at an HTTP server.";
        case errc::http2_only:
            return "The server speaks only HTTP/2; fxrates speaks HTTP/1.1.";
        case errc::header_limit:
            return "The answer's header is larger than the limit; raise the header limit if the server is trusted.";
        case errc::body_limit:
            return "The answer's body is larger than the limit; raise the body limit if the server is trusted.";
        case errc::truncated_answer:
            return "The connection closed before the whole answer arrived.";
        case errc::bad_content_encoding:
            return "The answer's compressed body cannot be decoded.";
        case errc::too_many_redirects:
            return "The server redirected more times than allowed.";
        case errc::redirect_loop:
            return "The server's redirects lead in a circle.";
        case errc::insecure_redirect:
            return "The server redirected from https to http; fxrates refuses to drop encryption.";
        case errc::bad_redirect:
            return "The server sent a redirect without a usable Location.";
        case errc::internal:
            return "An unexpected error inside fxrates (a bug); please report it with the details.";
        case errc::bad_url:
            return "The URL is not an absolute http:// or https:// URL with a host.";
        }
        return "Unknown fxrates error " + std::to_string(value) + ".";
    }
};

class http_category_impl final : public boost::system::error_category
{
public:
    const char* name() const noexcept override { return "fxrates.http"; }

    std::string message(int status) const override
    {
        std::string text = "HTTP " + std::to_string(status);
        switch (status)
        {
        case 400: return text + " Bad Request: the API rejected a parameter.";
        case 404: return text + " Not Found: the API has no data for this request.";
        case 405: return text + " Method Not Allowed.";
        case 429: return text + " Too Many Requests: slow down and try again later.";
        case 500: return text + " Internal Server Error: the API failed; try again later.";
        case 502: return text + " Bad Gateway: try again later.";
        case 503: return text + " Service Unavailable: try again later.";
        case 504: return text + " Gateway Timeout: try again later.";
        default: return text + ": the API answered with a status fxrates does not expect.";
        }
    }

    // A 2xx or 3xx status is not a failure, although the code is non-zero.
    bool failed(int status) const noexcept override { return status >= 400; }
};

class condition_category_impl final : public boost::system::error_category
{
public:
    const char* name() const noexcept override { return "fxrates.condition"; }

    std::string message(int value) const override
    {
        switch (static_cast<condition>(value))
        {
        case condition::timeout: return "A deadline passed.";
        case condition::rate_limited: return "The server asked us to slow down.";
        case condition::transient: return "A temporary failure; try again later.";
        case condition::bad_response: return "The server's answer could not be understood.";
        case condition::tls:
            return "The TLS connection failed; check the server's certificate, the trusted CAs and the API URL.";
        case condition::cancelled: return "The operation was cancelled.";
        case condition::connection: return "The connection failed or closed before an answer came.";
        }
        return "Unknown fxrates condition " + std::to_string(value) + ".";
    }

    bool equivalent(const error_code& code, int value) const noexcept override
    {
        switch (static_cast<condition>(value))
        {
        case condition::timeout:
            return code == boost::beast::error::timeout || code == boost::asio::error::timed_out ||
                   code == errc::batch_deadline;
        case condition::rate_limited:
            return code == make_http_error(429);
        case condition::transient:
            return code == make_http_error(502) || code == make_http_error(503) ||
                   code == make_http_error(504);
        case condition::bad_response:
            return code == errc::bad_response;
        case condition::tls:
            return code.category() == boost::asio::error::get_ssl_category() ||
                   code == boost::asio::ssl::error::stream_truncated;
        case condition::connection:
            namespace error = boost::asio::error;
            return code == error::connection_refused || code == error::connection_reset ||
                   code == error::connection_aborted || code == error::broken_pipe || code == error::eof ||
                   code == error::host_unreachable || code == error::network_unreachable ||
                   code == error::network_down || code == error::host_not_found_try_again ||
                   code == boost::asio::ssl::error::stream_truncated || code == errc::truncated_answer;
        case condition::cancelled:
            return code == boost::asio::error::operation_aborted || code == errc::client_closed;
        }
        return false;
    }
};

} // namespace

const boost::system::error_category& client_category() noexcept
{
    static const client_category_impl instance;
    return instance;
}

const boost::system::error_category& http_category() noexcept
{
    static const http_category_impl instance;
    return instance;
}

const boost::system::error_category& condition_category() noexcept
{
    static const condition_category_impl instance;
    return instance;
}

} // namespace fxrates
