#include <fxrates/server/local_server.hpp>
#include <fxrates/server/server.hpp>

#include "server/rate_limiter.hpp"
#include "server/rates_service.hpp"
#include "server/tls_identity.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <atomic>
#include <cmath>
#include <ctime>
#include <fstream>
#include <iostream>
#include <list>
#include <sstream>
#include <thread>

namespace fxrates {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// A request body is never needed by the API; a small limit keeps a POST flood cheap.
constexpr std::size_t request_body_limit = 64 * 1024;

// Peers often skip close_notify; do not let a silent one hold the connection open.
constexpr auto tls_shutdown_timeout = std::chrono::seconds(1);

// How long the 4xx answer to a malformed request may take before the connection is just closed.
constexpr auto malformed_answer_timeout = std::chrono::seconds(1);

std::string read_pem_file(const std::string& path, const char* what)
{
    std::ifstream file(path, std::ios::binary);
    std::ostringstream text;
    if (file)
        text << file.rdbuf();
    if (!file || text.view().empty())
        throw std::runtime_error(path + ": cannot read the " + what + " (a PEM file is expected)");
    return std::move(text).str();
}

std::chrono::sys_days utc_today()
{
    return std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
}

// The HTTP Date header, formatted at most once a second.
class http_date
{
public:
    static std::string at(std::time_t seconds)
    {
        std::tm parts{};
        gmtime_r(&seconds, &parts);
        char text[64];
        std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &parts);
        return text;
    }

    const std::string& now()
    {
        std::time_t seconds = std::time(nullptr);
        if (seconds != formatted_at_)
        {
            value_ = at(seconds);
            formatted_at_ = seconds;
        }
        return value_;
    }

private:
    std::time_t formatted_at_ = 0;
    std::string value_;
};

std::string format_rate(double rate)
{
    std::ostringstream text;
    text << rate;
    return text.str();
}

bool is_disconnect(const beast::error_code& ec)
{
    return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
           ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
           ec == beast::error::timeout || ec == asio::error::bad_descriptor;
}

} // namespace

class server::impl : public std::enable_shared_from_this<impl>
{
public:
    impl(asio::any_io_executor executor, server_params params)
        : executor_(std::move(executor)), params_(std::move(params)),
          service_(params_.history ? params_.history : ecb_history::embedded()), acceptor_(executor_),
          tls_(ssl::context::tls_server)
    {
        std::string key_pem;
        if (params_.certificate_file.empty() != params_.private_key_file.empty())
            throw std::runtime_error("give both a certificate file and a private key file, or neither");
        if (params_.certificate_file.empty() && !params_.certificate_pem.empty())
        {
            certificate_pem_ = params_.certificate_pem;
            key_pem = params_.private_key_pem;
        }
        else if (params_.certificate_file.empty())
        {
            auto identity = detail::make_self_signed_identity();
            certificate_pem_ = std::move(identity.certificate_pem);
            key_pem = std::move(identity.private_key_pem);
        }
        else
        {
            certificate_pem_ = read_pem_file(params_.certificate_file, "certificate");
            key_pem = read_pem_file(params_.private_key_file, "private key");
        }
        tls_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                         ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
        beast::error_code ec;
        tls_.use_certificate_chain(asio::buffer(certificate_pem_), ec);
        if (ec)
            throw std::runtime_error("the certificate is not usable: " + ec.message());
        tls_.use_private_key(asio::buffer(key_pem), ssl::context::pem, ec);
        if (ec)
            throw std::runtime_error("the private key is not usable or does not match the certificate: " +
                                     ec.message());

        if (params_.rate_limit < 0 || !std::isfinite(params_.rate_limit))
            throw std::invalid_argument("the rate limit must be a positive number of requests per second, or 0");
        if (params_.rate_limit > 0)
        {
            burst_ = params_.burst ? params_.burst : static_cast<unsigned>(std::ceil(params_.rate_limit));
            limiter_.emplace(params_.rate_limit, burst_);
        }
    }

    void start()
    {
        tcp::endpoint endpoint(asio::ip::make_address(params_.address), params_.port);
        acceptor_.open(endpoint.protocol());
        acceptor_.set_option(asio::socket_base::reuse_address(true));
        acceptor_.bind(endpoint);
        acceptor_.listen(asio::socket_base::max_listen_connections);
        port_ = acceptor_.local_endpoint().port();
        asio::co_spawn(executor_, accept_loop(shared_from_this()), asio::detached);
    }

    void stop()
    {
        stopped_ = true;
        beast::error_code ignored;
        acceptor_.close(ignored);
        for (auto* connection : connections_)
            connection->close();
    }

    std::uint16_t port() const noexcept { return port_; }
    const std::string& certificate_pem() const noexcept { return certificate_pem_; }
    std::uint64_t requests_served() const noexcept { return requests_served_; }
    std::size_t open_connections() const noexcept { return open_connections_; }
    const asio::any_io_executor& executor() const noexcept { return executor_; }

private:
    struct connection
    {
        beast::ssl_stream<beast::tcp_stream> stream;
        asio::steady_timer delay;

        void close()
        {
            beast::get_lowest_layer(stream).close();
            delay.cancel();
        }
    };

    // Keeps a connection in the registry that `stop` closes, for as long as it lives.
    class registration
    {
    public:
        registration(impl& owner, connection& conn) : owner_(owner)
        {
            it_ = owner_.connections_.insert(owner_.connections_.end(), &conn);
            ++owner_.open_connections_;
        }
        ~registration()
        {
            owner_.connections_.erase(it_);
            --owner_.open_connections_;
        }
        registration(const registration&) = delete;
        registration& operator=(const registration&) = delete;

    private:
        impl& owner_;
        std::list<connection*>::iterator it_;
    };

    static asio::awaitable<void> accept_loop(std::shared_ptr<impl> self)
    {
        asio::steady_timer backoff(self->executor_);
        while (!self->stopped_)
        {
            auto [ec, socket] = co_await self->acceptor_.async_accept(use_tuple);
            if (self->stopped_)
                break;
            if (ec)
            {
                // Out of file descriptors: wait for connections to close instead of spinning.
                backoff.expires_after(std::chrono::milliseconds(50));
                co_await backoff.async_wait(use_tuple);
                continue;
            }
            if (self->connections_.size() >= self->params_.max_connections)
                continue; // the socket closes as it goes out of scope
            asio::co_spawn(self->executor_, serve_connection(self, std::move(socket)), asio::detached);
        }
    }

    static asio::awaitable<void> serve_connection(std::shared_ptr<impl> self, tcp::socket socket)
    {
        beast::error_code ec;
        std::string client = socket.remote_endpoint(ec).address().to_string();
        connection conn{beast::ssl_stream<beast::tcp_stream>(beast::tcp_stream(std::move(socket)), self->tls_),
                        asio::steady_timer(self->executor_)};
        registration registered(*self, conn);
        if (self->stopped_)
            co_return; // accepted just before stop(), started just after it
        auto& tcp_layer = beast::get_lowest_layer(conn.stream);

        tcp_layer.expires_after(self->params_.handshake_timeout);
        std::tie(ec) = co_await conn.stream.async_handshake(ssl::stream_base::server, use_tuple);
        if (ec)
            co_return;

        beast::flat_buffer buffer;
        bool keep_alive = true;
        bool malformed = false;
        while (keep_alive && !self->stopped_)
        {
            http::request_parser<http::string_body> parser;
            parser.header_limit(static_cast<std::uint32_t>(self->params_.header_limit));
            parser.body_limit(request_body_limit);
            tcp_layer.expires_after(self->params_.request_timeout);
            std::size_t bytes = 0;
            std::tie(ec, bytes) = co_await http::async_read(conn.stream, buffer, parser, use_tuple);

            http::response<http::string_body> response;
            if (ec)
            {
                if (is_disconnect(ec) || self->stopped_)
                    co_return;
                // Malformed request: say so, then close, since the stream position is unknown.
                unsigned status = ec == http::error::header_limit ? 431 : ec == http::error::body_limit ? 413 : 400;
                response = self->make_response(
                    {status, detail::detail_body(status == 431   ? "Request header fields too large."
                                                 : status == 413 ? "Request body too large."
                                                                 : "Bad request: " + ec.message() + "."),
                     {}},
                    11, false);
                keep_alive = false;
                malformed = true;
            }
            else
            {
                const auto& request = parser.get();
                keep_alive = request.keep_alive();
                response = self->answer(request, client);
                if (self->params_.latency > std::chrono::steady_clock::duration::zero())
                {
                    conn.delay.expires_after(self->params_.latency);
                    std::tie(ec) = co_await conn.delay.async_wait(use_tuple);
                    if (ec || self->stopped_)
                        co_return;
                }
                auto injected = self->next_fault(request.target());
                if (self->params_.log_request)
                {
                    std::string line(request.method_string());
                    line.append(" ").append(request.target()).append(" -> ");
                    line.append(injected ? "fault " + std::string(to_string(*injected))
                                         : std::to_string(response.result_int()));
                    self->params_.log_request(line);
                }
                if (injected)
                {
                    ++self->requests_served_;
                    if (!co_await self->misbehave(conn, *injected, response))
                        co_return; // the fault ended the connection
                    continue;
                }
            }

            ++self->requests_served_;
            // A client that sent garbage may still be sending, and not reading: a short deadline
            // for the error answer, then a plain close, so that both sides cannot block on a
            // write each (a 1 MB header line would otherwise hold the connection for the whole
            // write timeout).
            tcp_layer.expires_after(malformed ? std::min<std::chrono::steady_clock::duration>(
                                                    self->params_.write_timeout, malformed_answer_timeout)
                                              : self->params_.write_timeout);
            std::tie(ec, bytes) = co_await http::async_write(conn.stream, response, use_tuple);
            if (ec || malformed)
                co_return;
        }

        if (!self->stopped_)
        {
            tcp_layer.expires_after(tls_shutdown_timeout);
            std::tie(ec) = co_await conn.stream.async_shutdown(use_tuple);
        }
    }

    std::optional<fault> next_fault(beast::string_view target)
    {
        if (params_.inject_fault)
            if (auto chosen = params_.inject_fault(std::string_view(target.data(), target.size())))
                return chosen;
        return params_.faults.draw();
    }

    // Answers with fault `kind` instead of `response` (the right answer). Returns whether the
    // connection may go on serving requests.
    asio::awaitable<bool> misbehave(connection& conn, fault kind, http::response<http::string_body>& response)
    {
        auto& tcp_layer = beast::get_lowest_layer(conn.stream);
        auto reset = [&] {
            beast::error_code ignored;
            tcp_layer.socket().set_option(asio::socket_base::linger(true, 0), ignored); // RST, not FIN
            tcp_layer.close();
        };
        auto serialized = [&] {
            std::ostringstream text;
            text << response;
            return std::move(text).str();
        };
        auto write_bytes = [&](std::string_view bytes) -> asio::awaitable<bool> {
            tcp_layer.expires_after(params_.write_timeout);
            auto [ec, written] = co_await asio::async_write(conn.stream, asio::buffer(bytes), use_tuple);
            co_return !ec;
        };
        auto replace = [&](unsigned status, std::string body, const char* content_type = "application/json") {
            response = make_response({status, std::move(body), {}}, response.version(), response.keep_alive());
            response.set(http::field::content_type, content_type);
        };
        std::string date_body = "{\"date\":\"2019-04-09\",\"base\":\"USD\"";

        switch (kind)
        {
        case fault::http_500: replace(500, detail::detail_body("Internal Server Error")); break;
        case fault::http_503:
            replace(503, detail::detail_body("Service Unavailable"));
            response.set(http::field::retry_after, "1");
            break;
        case fault::http_429:
        case fault::http_429_date:
        case fault::http_429_bare:
            replace(429, "{\"detail\":\"Rate limit exceeded. Try again in 1 seconds.\",\"retry_after\":1}");
            if (kind == fault::http_429)
                response.set(http::field::retry_after, "1");
            else if (kind == fault::http_429_date)
                response.set(http::field::retry_after, http_date::at(std::time(nullptr) + 2));
            break;
        case fault::bad_json: replace(200, date_body + ",\"rates\":{\"EUR\":0.88"); break;
        case fault::missing_rates: replace(200, date_body + "}"); break;
        case fault::rates_string: replace(200, date_body + ",\"rates\":\"none\"}"); break;
        case fault::huge_body: replace(200, std::string(50u << 20, ' ') + date_body + ",\"rates\":{}}"); break;
        case fault::html_page:
            replace(502, "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>",
                    "text/html");
            break;
        case fault::reset: reset(); co_return false;
        case fault::reset_mid_body:
        {
            auto text = serialized();
            co_await write_bytes(std::string_view(text).substr(0, text.size() - response.body().size() / 2));
            reset();
            co_return false;
        }
        case fault::short_body:
        {
            auto text = serialized();
            co_await write_bytes(std::string_view(text).substr(0, text.size() - response.body().size() / 2));
            tcp_layer.close(); // a FIN inside a TLS stream: the client sees the body cut short
            co_return false;
        }
        case fault::stall:
        {
            // Hold the connection without a word until the client gives up or the server stops.
            conn.delay.expires_after(params_.request_timeout);
            co_await conn.delay.async_wait(use_tuple);
            co_return false;
        }
        case fault::drip:
        {
            auto text = serialized();
            for (char byte : text)
            {
                if (!co_await write_bytes(std::string_view(&byte, 1)) || stopped_)
                    co_return false;
                conn.delay.expires_after(std::chrono::milliseconds(100));
                auto [ec] = co_await conn.delay.async_wait(use_tuple);
                if (ec)
                    co_return false;
            }
            co_return response.keep_alive();
        }
        case fault::tls_truncate:
        {
            co_await write_bytes(serialized());
            tcp_layer.close(); // no close_notify
            co_return false;
        }
        }
        tcp_layer.expires_after(params_.write_timeout);
        auto [ec, written] = co_await http::async_write(conn.stream, response, use_tuple);
        co_return !ec && response.keep_alive();
    }

    http::response<http::string_body> answer(const http::request<http::string_body>& request,
                                             const std::string& client)
    {
        if (limiter_)
        {
            auto decision = limiter_->check(client, std::chrono::steady_clock::now());
            if (!decision.allowed)
                return rate_limited(decision.retry_after, request);
        }
        if (params_.inject_status)
            if (auto status = params_.inject_status(request.target()))
                return make_response({*status, detail::detail_body("Injected failure."), {}}, request.version(),
                                     request.keep_alive());
        auto api = service_.handle(request.method_string(), request.target(),
                                   params_.today ? *params_.today : utc_today());
        auto response = make_response(std::move(api), request.version(), request.keep_alive());
        if (request.method() == http::verb::head)
        {
            auto length = response.body().size();
            response.body().clear();
            response.content_length(length);
        }
        return response;
    }

    http::response<http::string_body> rate_limited(std::chrono::steady_clock::duration wait,
                                                   const http::request<http::string_body>& request)
    {
        // Whole seconds, rounded up, and never 0: a client that waits that long will get through.
        auto seconds = std::max<long long>(
            1, std::chrono::ceil<std::chrono::seconds>(wait).count());
        std::string body = "{\"detail\":\"Rate limit exceeded. Try again in " + std::to_string(seconds) +
                           " seconds.\",\"retry_after\":" + std::to_string(seconds) + "}";
        auto response = make_response({429, std::move(body), {}}, request.version(), request.keep_alive());
        response.set(http::field::retry_after, std::to_string(seconds));
        response.set("X-RateLimit-Limit", format_rate(params_.rate_limit));
        response.set("X-RateLimit-Burst", std::to_string(burst_));
        return response;
    }

    http::response<http::string_body> make_response(detail::api_response api, unsigned version, bool keep_alive)
    {
        http::response<http::string_body> response{static_cast<http::status>(api.status), version};
        response.set(http::field::server, "fxrates");
        response.set(http::field::date, date_.now());
        response.set(http::field::content_type, "application/json");
        if (!api.allow.empty())
            response.set(http::field::allow, api.allow);
        response.body() = std::move(api.body);
        response.keep_alive(keep_alive);
        response.prepare_payload();
        return response;
    }

    asio::any_io_executor executor_;
    server_params params_;
    detail::rates_service service_;
    tcp::acceptor acceptor_;
    ssl::context tls_;
    std::string certificate_pem_;
    std::optional<detail::rate_limiter> limiter_;
    unsigned burst_ = 0;
    std::list<connection*> connections_;
    http_date date_;
    bool stopped_ = false;
    std::atomic<std::uint16_t> port_{0};
    std::atomic<std::uint64_t> requests_served_{0};
    std::atomic<std::size_t> open_connections_{0};
};

server::server(asio::any_io_executor executor, server_params params)
    : impl_(std::make_shared<impl>(std::move(executor), std::move(params)))
{
}

server::~server()
{
    // Connections hold the impl alive; make sure they end even if the owner forgot to stop.
    if (impl_)
        asio::post(impl_->executor(), [impl = impl_] { impl->stop(); });
}

void server::start() { impl_->start(); }
void server::stop() { impl_->stop(); }
std::uint16_t server::port() const noexcept { return impl_->port(); }
const std::string& server::certificate_pem() const noexcept { return impl_->certificate_pem(); }
std::uint64_t server::requests_served() const noexcept { return impl_->requests_served(); }
std::size_t server::open_connections() const noexcept { return impl_->open_connections(); }
asio::any_io_executor server::get_executor() const noexcept { return impl_->executor(); }

class local_server::impl
{
public:
    explicit impl(server_params params) : server_(context_.get_executor(), std::move(params))
    {
        server_.start();
        thread_ = std::thread([this] {
            try
            {
                context_.run();
            }
            catch (const std::exception& e)
            {
                std::cerr << "fxrates: local server stopped: " << e.what() << '\n';
            }
        });
    }

    ~impl() { stop(); }

    void stop()
    {
        if (!thread_.joinable())
            return;
        asio::post(context_, [this] { server_.stop(); });
        thread_.join();
    }

    asio::io_context context_{1};
    server server_;
    std::thread thread_;
};

local_server::local_server(server_params params) : impl_(std::make_unique<impl>(std::move(params))) {}
local_server::~local_server() = default;
std::uint16_t local_server::port() const noexcept { return impl_->server_.port(); }
std::string local_server::base_url() const { return "https://127.0.0.1:" + std::to_string(port()); }
const std::string& local_server::certificate_pem() const noexcept { return impl_->server_.certificate_pem(); }
std::uint64_t local_server::requests_served() const noexcept { return impl_->server_.requests_served(); }
std::size_t local_server::open_connections() const noexcept { return impl_->server_.open_connections(); }
void local_server::stop() { impl_->stop(); }

} // namespace fxrates
