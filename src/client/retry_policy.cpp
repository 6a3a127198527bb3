#include <fxrates/retry_policy.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

namespace fxrates {

bool retry_policy::is_retryable(const error_code& error) noexcept
{
    namespace asio = boost::asio;
    if (!error || error == asio::error::operation_aborted || error == errc::client_closed ||
        error == errc::batch_deadline)
        return false;
    if (error.category() == http_category())
        return error == condition::rate_limited || error == condition::transient;
    if (error.category() == client_category())
        return false; // bad answers and bad URLs would fail again
    if (error == boost::beast::http::error::body_limit)
        return false;
    // Certificates do not fix themselves; other TLS failures (a reset mid-handshake) may.
    if (error == asio::ssl::error::stream_truncated)
        return true;
    if (error.category() == asio::error::get_ssl_category())
        return false;
    return error == condition::timeout || error == asio::error::connection_refused ||
           error == asio::error::connection_reset || error == asio::error::connection_aborted ||
           error == asio::error::broken_pipe || error == asio::error::eof ||
           error == boost::beast::http::error::end_of_stream || error == boost::beast::http::error::partial_message ||
           error == asio::error::host_unreachable || error == asio::error::network_unreachable ||
           error == asio::error::network_down || error == asio::error::host_not_found_try_again ||
           error == asio::error::timed_out;
}

} // namespace fxrates
