#pragma once

#include <fxrates/client_params.hpp>
#include <fxrates/currency.hpp>
#include <fxrates/decode.hpp>
#include <fxrates/diagnostics.hpp>
#include <fxrates/error.hpp>
#include <fxrates/fetch_outcome.hpp>
#include <fxrates/rates.hpp>
#include <fxrates/rates_outcome.hpp>
#include <fxrates/rates_query.hpp>
#include <fxrates/with_diagnostics.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/execution_context.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace fxrates {

/// An asynchronous client of a rates API such as api.vatcomply.com, on the embedder's executor.
///
/// Every operation takes any Asio completion token. The single-request ones default to
/// `with_diagnostics(asio::use_awaitable)`, so inside a coroutine `co_await client.async_get_rates(base)`
/// just works and a failure throws `error_with_diagnostics`, which carries the explanation; the
/// batch defaults to `asio::deferred` (its failures are in its outcomes). Callbacks, `use_future`,
/// `as_tuple` and `redirect_error` work too, with the error_code signature. Requests go over HTTPS with keep-alive connections
/// from a pool (at most `client_params::max_connections` at once; further requests wait in order).
///
/// Executor: all work runs on `get_executor()`: the executor given if it is a strand, else a
/// strand over it, so that an `io_context` run by several threads is safe. A program whose
/// executor one thread runs says so with `client_params::thread_safe = false` and saves the
/// strand's cost (about 5% of a request's CPU). Handlers run on their own associated executor,
/// never inside the initiating call.
///
/// Thread safety: the `async_*` functions may be called from any thread, since they only start a
/// coroutine on the client's executor (so `use_future` from another thread works); `close`,
/// `stats` and destruction belong on `get_executor()` (post them there from other threads).
///
/// Lifetime: the client may be destroyed with operations pending; they complete with
/// `errc::client_closed` or `operation_aborted`.
class client
{
public:
    /// Makes a client on `executor`. Throws `std::invalid_argument` if `params.api_url` is not an
    /// https URL, or `boost::system::system_error` if a CA file cannot be loaded.
    client(boost::asio::any_io_executor executor, client_params params = {});

    /// Makes a client on `context`'s executor.
    template <class ExecutionContext>
        requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
    explicit client(ExecutionContext& context, client_params params = {})
        : client(boost::asio::any_io_executor(context.get_executor()), std::move(params))
    {
    }

    ~client();
    client(client&&) noexcept;
    client& operator=(client&&) noexcept;

    boost::asio::any_io_executor get_executor() const noexcept;

    /// Gets the rates of one base currency.
    ///
    /// Completion signature: `void(error_code, rates)`. Errors: HTTP statuses (category
    /// `fxrates.http`, e.g. 400 for a base the API does not support), `errc::bad_response`,
    /// timeouts (`condition::timeout`), and Asio, SSL and Beast codes from the transport; `diag`
    /// explains them and holds the API's own error text, which is untrusted.
    ///
    /// Cancellation: terminal; the client stays usable (the connection in use is closed).
    template <boost::asio::completion_token_for<void(error_code, rates)> CompletionToken = default_token_t>
    auto async_get_rates(currency_code base, rates_query query, diagnostics& diag,
                         CompletionToken&& token = CompletionToken{})
    {
        return boost::asio::async_initiate<CompletionToken, void(error_code, rates)>(
            [this](auto handler, currency_code base, rates_query query, diagnostics* diag) {
                async_get_rates_impl(base, std::move(query), diag, std::move(handler));
            },
            token, base, std::move(query), &diag);
    }

    /// \copydoc async_get_rates
    template <boost::asio::completion_token_for<void(error_code, rates)> CompletionToken = default_token_t>
    auto async_get_rates(currency_code base, rates_query query = {}, CompletionToken&& token = CompletionToken{})
    {
        return boost::asio::async_initiate<CompletionToken, void(error_code, rates)>(
            [this](auto handler, currency_code base, rates_query query, diagnostics* diag) {
                async_get_rates_impl(base, std::move(query), diag, std::move(handler));
            },
            token, base, std::move(query), static_cast<diagnostics*>(nullptr));
    }

    /// Gets the rates of many base currencies at once, all requests concurrent.
    ///
    /// Completion signature: `void(error_code, std::vector<rates_outcome>)`, one outcome per base
    /// **in the order of `bases`**, each a value or an error with diagnostics: one failure never
    /// loses the others. The error code is for the batch as a whole, and is only set when the
    /// operation itself was cancelled. Bases still pending after `client_params::batch_timeout`
    /// complete with `errc::batch_deadline`.
    ///
    /// Cancellation: terminal; pending bases complete with `operation_aborted`, finished ones keep
    /// their values.
    template <boost::asio::completion_token_for<void(error_code, std::vector<rates_outcome>)> CompletionToken =
                  boost::asio::deferred_t>
    auto async_get_rates_batch(std::vector<currency_code> bases, rates_query query = {},
                               CompletionToken&& token = CompletionToken{})
    {
        return async_get_rates_batch(std::move(bases), std::move(query), outcome_observer(),
                                     std::forward<CompletionToken>(token));
    }

    /// The same, telling `observe` of each base as it ends (its index in `bases` and its outcome),
    /// on the client's executor, once per base and before the batch completes: for progress and
    /// for output streamed as the answers come. `observe` must not throw.
    template <boost::asio::completion_token_for<void(error_code, std::vector<rates_outcome>)> CompletionToken =
                  boost::asio::deferred_t>
    auto async_get_rates_batch(std::vector<currency_code> bases, rates_query query, outcome_observer observe,
                               CompletionToken&& token = CompletionToken{})
    {
        return boost::asio::async_initiate<CompletionToken, void(error_code, std::vector<rates_outcome>)>(
            [this](auto handler, std::vector<currency_code> bases, rates_query query, outcome_observer observe) {
                async_get_rates_batch_impl(std::move(bases), std::move(query), std::move(observe), std::move(handler));
            },
            token, std::move(bases), std::move(query), std::move(observe));
    }

    /// Gets the list of currencies the API knows.
    ///
    /// Completion signature: `void(error_code, currency_list)`; errors as for `async_get_rates`.
    template <boost::asio::completion_token_for<void(error_code, currency_list)> CompletionToken = default_token_t>
    auto async_get_currencies(diagnostics& diag, CompletionToken&& token = CompletionToken{})
    {
        return boost::asio::async_initiate<CompletionToken, void(error_code, currency_list)>(
            [this](auto handler, diagnostics* diag) { async_get_currencies_impl(diag, std::move(handler)); }, token,
            &diag);
    }

    /// \copydoc async_get_currencies
    template <boost::asio::completion_token_for<void(error_code, currency_list)> CompletionToken = default_token_t>
    auto async_get_currencies(CompletionToken&& token = CompletionToken{})
    {
        return boost::asio::async_initiate<CompletionToken, void(error_code, currency_list)>(
            [this](auto handler, diagnostics* diag) { async_get_currencies_impl(diag, std::move(handler)); }, token,
            static_cast<diagnostics*>(nullptr));
    }

    /// Fetches any `https://` or `http://` URL with the client's connections, limits, retries,
    /// redirects, decompression and per-origin pacing (`client_params::rate` and what 429 answers
    /// teach apply to each origin on its own). The body goes to `item.sink` as it arrives, or into
    /// the outcome's `body` without one (bounded by `client_params::body_limit` either way).
    ///
    /// A sink that offers what it holds (`body_sink::resume_from`) is resumed, on the first attempt
    /// and on each retry after a cut: the request asks for the rest (`Range: bytes=OFFSET-`,
    /// `If-Range` with its strong ETag or Last-Modified, `Accept-Encoding: identity`). A 206 that
    /// continues the body is appended (`body_head::offset` is the sink's offset); a 200 starts it over
    /// (the resource changed, or the server ignores ranges); a 416, or a 206 that does not continue it
    /// (another first byte, a content coding), is asked again for the whole body, once, without
    /// spending a retry. The body limit bounds the whole body, the bytes resumed from included.
    ///
    /// Completion signature: `void(error_code, fetch_outcome)`; the error is the outcome's (see
    /// `fetch_outcome::error`), whose `diag` explains it.
    ///
    /// Cancellation: terminal; the client stays usable.
    template <boost::asio::completion_token_for<void(error_code, fetch_outcome)> CompletionToken =
                  boost::asio::deferred_t>
    auto async_fetch(fetch_item item, CompletionToken&& token = CompletionToken{})
    {
        return boost::asio::async_initiate<CompletionToken, void(error_code, fetch_outcome)>(
            [this](auto handler, fetch_item item) { async_fetch_impl(std::move(item), std::move(handler)); }, token,
            std::move(item));
    }

    /// Fetches many URLs at once, at most `client_params::max_connections` at a time (and
    /// `max_connections_per_origin` to each origin), telling `observe` of each as it ends. An item
    /// whose origin is at its limit waits aside, holding no place among the `max_connections`,
    /// while later items of other origins start: a slow host holds up only its own items, which
    /// start in input order as it frees up.
    ///
    /// Completion signature: `void(error_code, std::vector<fetch_outcome>)`, one outcome per item
    /// **in the order of `items`**; one failure never loses the others. The error code is set only
    /// when the batch itself was cancelled; then the pending items complete with
    /// `operation_aborted`. Unlike the rates batch, no batch-wide time limit applies: each item is
    /// bounded by the request time limits (a batch of a million files has no sensible total).
    template <boost::asio::completion_token_for<void(error_code, std::vector<fetch_outcome>)> CompletionToken =
                  boost::asio::deferred_t>
    auto async_fetch_batch(std::vector<fetch_item> items, fetch_observer observe = {},
                           CompletionToken&& token = CompletionToken{})
    {
        return boost::asio::async_initiate<CompletionToken, void(error_code, std::vector<fetch_outcome>)>(
            [this](auto handler, std::vector<fetch_item> items, fetch_observer observe) {
                async_fetch_batch_impl(std::move(items), std::move(observe), std::move(handler));
            },
            token, std::move(items), std::move(observe));
    }

    /// Fetches the URLs that `next` gives, as it gives them, at most `client_params::max_connections`
    /// at a time (and `max_connections_per_origin` to each origin), telling `observe` of each as it
    /// ends, in the order they end, with its index in the order `next` gave it. As in
    /// `async_fetch_batch`, an item whose origin is at its limit waits aside while later items of
    /// other origins start; `next` is called while a request could start and fewer than 1,024 items
    /// wait aside so. Nothing is kept once observed, so memory is bounded by the connections and
    /// those 1,024, not by the list: the operation for a list of millions of URLs read from a file
    /// as it goes.
    ///
    /// `window` (0: none) bounds how far ahead of the oldest unfinished item requests may start: a
    /// caller that writes outcomes in input order (holding the early ones) then holds at most
    /// `window` of them, even behind one slow URL, at the cost of waiting for it.
    ///
    /// Completion signature: `void(error_code)`, once every item given has been observed: set only
    /// when the operation was cancelled; then the items under way are observed with
    /// `operation_aborted` and `next` is not called again. The retry budget
    /// (`retry_params::budget_ratio`) grows with the items as they start.
    template <boost::asio::completion_token_for<void(error_code)> CompletionToken = boost::asio::deferred_t>
    auto async_fetch_stream(fetch_source next, fetch_observer observe, std::size_t window = 0,
                            CompletionToken&& token = CompletionToken{})
    {
        fetch_feed feed = [next = std::move(next)](const fetch_waker&) {
            auto item = next();
            return item ? fetch_feed_answer::next(std::move(*item)) : fetch_feed_answer::end();
        };
        return async_fetch_stream(std::move(feed), std::move(observe), window, std::forward<CompletionToken>(token));
    }

    /// As above, from a feed that may answer "not yet" (a list that another thread reads from a
    /// pipe): the requests under way go on meanwhile, and the feed is asked again once it wakes the
    /// operation. Cancelling the operation ends it at once, a wait for the feed included.
    template <boost::asio::completion_token_for<void(error_code)> CompletionToken = boost::asio::deferred_t>
    auto async_fetch_stream(fetch_feed next, fetch_observer observe, std::size_t window = 0,
                            CompletionToken&& token = CompletionToken{})
    {
        return boost::asio::async_initiate<CompletionToken, void(error_code)>(
            [this](auto handler, fetch_feed next, fetch_observer observe, std::size_t window) {
                async_fetch_stream_impl(std::move(next), std::move(observe), window, std::move(handler));
            },
            token, std::move(next), std::move(observe), window);
    }

    /// Closes idle connections and fails pending operations with `errc::client_closed`.
    void close();

    /// Counters, for benchmarks and monitoring.
    struct stats_type
    {
        /// Times the throttles' timers woke their queues (about one per throttled request).
        std::uint64_t throttle_wakeups = 0;

        /// 429 answers met. After the first, the client paces the origin at the limit the server
        /// announced (`X-RateLimit-Limit`) or, without one, at what the answers suggest.
        std::uint64_t rate_limited_answers = 0;
    };

    /// The counters so far; call on the executor's thread.
    stats_type stats() const;

private:
    void async_get_rates_impl(currency_code base, rates_query query, diagnostics* diag,
                              boost::asio::any_completion_handler<void(error_code, rates)> handler);
    void async_get_rates_batch_impl(
        std::vector<currency_code> bases, rates_query query, outcome_observer observe,
        boost::asio::any_completion_handler<void(error_code, std::vector<rates_outcome>)> handler);
    void async_get_currencies_impl(diagnostics* diag,
                                   boost::asio::any_completion_handler<void(error_code, currency_list)> handler);
    void async_fetch_impl(fetch_item item, boost::asio::any_completion_handler<void(error_code, fetch_outcome)> handler);
    void async_fetch_batch_impl(
        std::vector<fetch_item> items, fetch_observer observe,
        boost::asio::any_completion_handler<void(error_code, std::vector<fetch_outcome>)> handler);
    void async_fetch_stream_impl(fetch_feed next, fetch_observer observe, std::size_t window,
                                 boost::asio::any_completion_handler<void(error_code)> handler);

    class impl;
    std::shared_ptr<impl> impl_;
};

} // namespace fxrates
