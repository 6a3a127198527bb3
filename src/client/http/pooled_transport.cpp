#include "client/http/pooled_transport.hpp"

#include "client/deadline.hpp"
#include "client/http/connection_pool.hpp"
#include "client/http/exchange.hpp"
#include "client/http/response_parser.hpp"
#include "client/http/tls_connector.hpp"
#include "client/spawn.hpp"
#include "client/wait_queue.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/core/error.hpp>

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <unordered_map>

namespace fxrates::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
using clock_type = std::chrono::steady_clock;

namespace {

bool has_control_characters(std::string_view text)
{
    return std::any_of(text.begin(), text.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

// `now + left`, saturating: a limit may be "none" (duration::max()).
clock_type::time_point at(clock_type::time_point now, clock_type::duration left)
{
    return deadline_after(left, now);
}

class pooled_transport;

// Everything the requests under way share; they hold it, so that it outlives the transport.
struct shared_state final : handshake_gate
{
    shared_state(asio::any_io_executor ex, const client_params& settings)
        : executor(std::move(ex)), params(settings), connector(executor, params),
          pool(pool_limits{params.max_connections, params.max_connections_per_origin, params.max_handshakes,
                           params.idle_timeout})
    {
        // Nothing of the embedder's may end a header line early (header injection).
        if (has_control_characters(params.user_agent))
            throw std::invalid_argument("client_params::user_agent must not contain control characters");
        fixed_fields = "\r\nUser-Agent: " + params.user_agent + "\r\n";
        identity_fields = fixed_fields + "Accept-Encoding: identity\r\n";
        if (params.accept_compression)
            fixed_fields += "Accept-Encoding: gzip, deflate\r\n";
    }

    asio::any_io_executor executor;
    client_params params; // a copy: requests under way may outlive the client
    tls_connector connector;
    connection_pool<connection> pool;
    std::string fixed_fields; // User-Agent and Accept-Encoding, the same for every request
    std::string identity_fields; // the same, asking for no content coding (http_request::identity_encoding)
    // Requests waiting for a connection to one origin, served in the order they came. A release
    // frees room for its own origin first, and nobody is woken only to find the same limit again.
    struct origin_line
    {
        wait_queue queue;
        // Waiters woken for a connection given back that have not looked yet: until they have, a
        // newcomer queues behind them rather than take what was given back for them. (Else the
        // worker that gave a connection back took it again at once for its next item, ahead of
        // everyone waiting, and a batch's items ended hundreds of places out of order.)
        std::size_t woken = 0;

        bool idle() const noexcept { return queue.empty() && woken == 0; }
        void wake_one()
        {
            queue.notify_one();
            ++woken;
        }
    };
    std::unordered_map<origin, std::unique_ptr<origin_line>, origin_hash> slot_waiters;
    wait_queue handshake_waiters;
    bool closed = false;

    // handshake_gate: the pool's handshake admission, waited for on `handshake_waiters`.
    asio::awaitable<error_code> acquire(const named_deadline& limit, diagnostics& diag) override
    {
        auto admission = pool.begin_handshake();
        if (admission.admitted)
            co_return error_code{};
        for (;;)
        {
            auto woke = co_await handshake_waiters.wait(executor, limit.at);
            if (pool.claim_handshake(admission.ticket))
            {
                if (!closed)
                    co_return error_code{}; // a stop meanwhile is seen by the caller's next check
                release();
                co_return errc::client_closed;
            }
            if (!closed && woke == wait_queue::wake_reason::notified)
                continue; // another ticket's slot: wait again
            if (pool.abandon_handshake(admission.ticket))
                handshake_waiters.notify_one();
            if (closed)
                co_return errc::client_closed;
            if (woke == wait_queue::wake_reason::cancelled)
                co_return asio::error::operation_aborted;
            diag.set_client_message("no TLS handshake slot became free within " + limit.text() + " (" +
                                    std::to_string(params.max_handshakes) +
                                    " handshakes at once at most); the server may be slow to handshake");
            co_return beast::error::timeout;
        }
    }

    void release() noexcept override
    {
        if (pool.end_handshake())
            handshake_waiters.notify_one();
    }

    // A connection or a slot was given back: wake one waiter of that origin, or else of another
    // origin that its own limit does not hold (the global limit may have been what held it).
    void wake_slot_waiter(const origin& where)
    {
        if (auto it = slot_waiters.find(where); it != slot_waiters.end() && !it->second->queue.empty())
        {
            it->second->wake_one();
            return;
        }
        for (auto& [other, line] : slot_waiters)
            if (!line->queue.empty() && pool.below_origin_limit(other))
            {
                line->wake_one();
                return;
            }
    }

    void give_back(const origin& where, std::unique_ptr<connection> conn, bool reusable)
    {
        if (conn)
            pool.release(where, std::move(conn), reusable && !closed, clock_type::now());
        else
            pool.release_slot(where);
        wake_slot_waiter(where);
    }

    void close()
    {
        if (closed)
            return;
        closed = true;
        pool.close();
        pool.for_each_busy([](connection& conn) {
            beast::error_code ignored;
            beast::get_lowest_layer(conn.stream).socket().close(ignored);
        });
        connector.close();
        for (auto& [where, line] : slot_waiters)
        {
            line->woken += line->queue.size();
            line->queue.notify_all();
        }
        handshake_waiters.notify_all();
    }
};

// Why not to start another step: the transport closed, or the coroutine was cancelled.
asio::awaitable<error_code> stopped(const shared_state& state)
{
    if (state.closed)
        co_return errc::client_closed;
    auto cancellation = co_await asio::this_coro::cancellation_state;
    co_return cancellation.cancelled() != asio::cancellation_type::none ? error_code(asio::error::operation_aborted)
                                                                        : error_code{};
}

// A connection (or a slot for a new one) that one attempt holds; whatever ends the attempt,
// exceptions included, gives it back exactly once.
class held_connection
{
public:
    held_connection(shared_state& state, const origin& where) : state_(state), where_(where) {}
    held_connection(const held_connection&) = delete;
    held_connection& operator=(const held_connection&) = delete;
    ~held_connection()
    {
        if (held_)
            state_.give_back(where_, std::move(conn), false);
    }

    void hold(std::unique_ptr<connection> c)
    {
        conn = std::move(c);
        held_ = true;
    }
    void hold_slot() { held_ = true; }
    void release(bool reusable)
    {
        held_ = false;
        state_.give_back(where_, std::move(conn), reusable);
    }

    std::unique_ptr<connection> conn;

private:
    shared_state& state_;
    const origin& where_;
    bool held_ = false;
};

// Takes an idle connection into `held`, or a slot for a new one (then `held.conn` is a fresh,
// unconnected connection), waiting in line until `limit`. Those already waiting for the origin
// come first, unless `ahead` (a request sent again at once, whose turn it was).
asio::awaitable<error_code> acquire(shared_state& state, const origin& where, const named_deadline& limit,
                                    held_connection& held, bool& reused, diagnostics& diag, bool ahead)
{
    bool my_turn = ahead;
    for (;;)
    {
        auto line = state.slot_waiters.find(where);
        bool others_first = !my_turn && line != state.slot_waiters.end() && !line->second->idle();
        using acquire_result = connection_pool<connection>::acquire_result;
        auto found = others_first ? acquire_result{acquire_status::wait, nullptr}
                                  : state.pool.try_acquire(where, clock_type::now());
        switch (found.status)
        {
        case acquire_status::reused:
        {
            // Bytes that came while the connection was idle (a stray answer, a 408 before a close)
            // would be read as the next answer: such a connection is closed, never reused.
            beast::error_code ec;
            auto waiting = beast::get_lowest_layer(found.connection->stream).socket().available(ec);
            if (ec || waiting != 0 || found.connection->stream.has_unread_input())
            {
                state.give_back(where, std::move(found.connection), false);
                continue;
            }
            held.hold(std::move(found.connection));
            reused = true;
            co_return error_code{};
        }
        case acquire_status::open_new:
            held.hold_slot();
            held.conn = state.connector.make_connection(where);
            state.pool.adopt(where, *held.conn);
            reused = false;
            co_return error_code{};
        case acquire_status::closed: co_return errc::client_closed;
        case acquire_status::wait: break;
        }
        auto& waiting = state.slot_waiters[where];
        if (!waiting)
            waiting = std::make_unique<shared_state::origin_line>();
        auto woke = co_await waiting->queue.wait(
            state.executor, limit.at, my_turn ? wait_queue::place::front : wait_queue::place::back);
        // Still there: nobody removes a line that has waiters, or woken ones that have not looked.
        auto it = state.slot_waiters.find(where);
        my_turn = woke == wait_queue::wake_reason::notified;
        if (my_turn)
            --it->second->woken;
        if (it->second->idle())
            state.slot_waiters.erase(it);
        if (state.closed)
            co_return errc::client_closed;
        if (woke == wait_queue::wake_reason::notified)
            continue; // something was given back: look again
        if (woke == wait_queue::wake_reason::cancelled)
            co_return asio::error::operation_aborted;
        // Name the limit that held it: the origin's own, or the client's in all.
        bool origin_full = !state.pool.below_origin_limit(where);
        std::size_t most = origin_full ? state.params.max_connections_per_origin : state.params.max_connections;
        diag.set_client_message("no connection to " + where.host_header() + " became free within " + limit.text() +
                                " (" + std::to_string(most) + (most == 1 ? " connection" : " connections") +
                                (origin_full ? " to it" : " in all") + " at most, " +
                                (origin_full ? "max_connections_per_origin" : "max_connections") +
                                "); raise that limit or the timeouts");
        co_return beast::error::timeout;
    }
}

// The request's bytes: everything but the target is the same for every request to an origin.
std::string request_bytes(const shared_state& state, const http_request& request)
{
    std::string bytes;
    const std::string& fixed = request.identity_encoding ? state.identity_fields : state.fixed_fields;
    bytes.reserve(64 + request.target.size() + fixed.size());
    bytes.append(request.head ? "HEAD " : "GET ").append(request.target).append(" HTTP/1.1\r\nHost: ");
    request.origin.append_host_header(bytes);
    bytes.append(fixed);
    if (request.extra_fields)
        for (const auto& field : *request.extra_fields)
            bytes.append(field.name).append(": ").append(field.value).append("\r\n");
    bytes.append("\r\n");
    return bytes;
}

asio::awaitable<std::pair<error_code, http_response>> send(std::shared_ptr<shared_state> self, http_request request)
{
    co_await asio::this_coro::throw_if_cancelled(false);
    auto& state = *self;
    http_response response;
    auto& timing = response.timing;
    auto& diag = response.diag;
    auto now = clock_type::now();
    named_deadline whole{at(now, request.whole.left), request.whole.name, request.whole.length};
    named_deadline queue{std::min(at(now, request.queue.left), whole.at), request.queue.name, request.queue.length};
    const auto& where = request.origin;

    bool bad_field = has_control_characters(request.target) || request.target.find(' ') != std::string::npos;
    if (request.extra_fields)
        for (const auto& field : *request.extra_fields)
            bad_field = bad_field || has_control_characters(field.name) || has_control_characters(field.value);
    if (bad_field)
    {
        diag.set_client_message("the request has control characters in its target or fields");
        co_return std::pair{error_code(asio::error::invalid_argument), std::move(response)};
    }
    auto bytes = request_bytes(state, request);
    string_sink body;
    body_sink& sink = request.sink ? *request.sink : body;

    held_connection held(state, where);
    bool reused = false;
    if (auto ec = co_await acquire(state, where, queue, held, reused, diag, request.resend_unanswered))
        co_return std::pair{ec, std::move(response)};
    if (auto stop = co_await stopped(state))
        co_return std::pair{stop, std::move(response)};
    timing.started = clock_type::now(); // the wait for a connection is over
    timing.reused_connection = reused;
    timing.resumed_tls_session = false;
    auto& conn = *held.conn;
    if (reused)
        timing.connected = timing.tls_done = timing.started;
    else
    {
        auto ec = co_await state.connector.connect(
            conn, where, phase_limit("connect timeout", state.params.connect_timeout, whole), diag, timing);
        if (!ec)
            ec = co_await state.connector.handshake(conn, where, whole, state, diag, timing);
        if (!ec)
            ec = co_await stopped(state);
        if (ec)
            co_return std::pair{ec, std::move(response)}; // `held` gives the slot back
    }

    response_parser parser(response_limits{state.params.header_limit, state.params.body_limit}, sink,
                           request.head);
    exchange_limits limits{phase_limit("first-byte timeout", state.params.first_byte_timeout, whole),
                           state.params.read_idle_timeout, whole};
    auto exchanged = co_await run_exchange(conn.stream, conn.buffer, bytes, parser, limits, where, diag);
    timing.first_byte = exchanged.first_byte;
    response.got_answer = exchanged.got_answer;
    if (!exchanged.error)
    {
        held.release(exchanged.reusable);
        response.interim_responses = parser.interim_responses();
        response.head = parser.take_head();
        response.body = std::move(body.body);
        co_return std::pair{error_code{}, std::move(response)};
    }
    held.release(false);
    // The server may close an idle keep-alive connection just as we reuse it: nothing was
    // answered, so the GET may be sent again at once on a fresh connection. The fetcher does
    // that, through the origin's throttle: the server sees another request.
    if (reused && !exchanged.got_answer && exchanged.error == condition::connection)
    {
        // The origin's other idle connections are older: the next request should not meet the same.
        state.pool.drop_idle(where);
        response.unanswered_on_reused = true;
    }
    co_return std::pair{exchanged.error, std::move(response)};
}

class pooled_transport final : public transport
{
public:
    pooled_transport(asio::any_io_executor executor, const client_params& params)
        : state_(std::make_shared<shared_state>(std::move(executor), params))
    {
    }
    ~pooled_transport() override { state_->close(); }

    void async_send(http_request request, handler_type handler) override
    {
        auto slot = asio::get_associated_cancellation_slot(handler);
        auto handler_executor = asio::get_associated_executor(handler, state_->executor);
        spawn_cancellable(
            state_->executor, send(state_, std::move(request)), slot,
                asio::bind_executor(handler_executor, [handler = std::move(handler)](
                                                                std::exception_ptr failure,
                                                                std::pair<error_code, http_response> result) mutable {
                    if (failure)
                    {
                        // A bug, or memory exhausted: say which, never pass it off as a cancellation.
                        result.first = errc::internal;
                        try
                        {
                            std::rethrow_exception(failure);
                        }
                        catch (const std::exception& e)
                        {
                            result.second.diag.set_client_message(std::string("internal error in the transport: ") +
                                                                  e.what());
                        }
                        catch (...)
                        {
                            result.second.diag.set_client_message("internal error in the transport");
                        }
                    }
                    std::move(handler)(result.first, std::move(result.second));
                }));
    }

    void close() override { state_->close(); }

private:
    std::shared_ptr<shared_state> state_;
};

} // namespace

std::unique_ptr<transport> make_pooled_transport(asio::any_io_executor executor, const client_params& params)
{
    return std::make_unique<pooled_transport>(std::move(executor), params);
}

} // namespace fxrates::detail
