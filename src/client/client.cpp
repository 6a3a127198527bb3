#include <fxrates/client.hpp>
#include <fxrates/offload.hpp>
#include <fxrates/retry_policy.hpp>
#include <fxrates/throttle.hpp>

#include "client/api_url.hpp"
#include "client/batch.hpp"
#include "client/ordering_window.hpp"
#include "client/origin_lookahead.hpp"
#include "client/http/fetcher.hpp"
#include "client/http/pooled_transport.hpp"
#include "client/spawn.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <optional>
#include <random>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include <unistd.h>

namespace fxrates {

namespace asio = boost::asio;

namespace {


detail::api_endpoint endpoint_or_throw(const std::string& url)
{
    std::string why;
    auto endpoint = detail::parse_api_url(url, why);
    if (!endpoint)
        throw std::invalid_argument("bad API URL: " + why);
    return *endpoint;
}

// A small number per thread, stable for the thread's life, for timelines.
std::uint64_t current_thread_number()
{
    return static_cast<std::uint64_t>(std::hash<std::thread::id>{}(std::this_thread::get_id()));
}

// Read once: getpid is a system call, and a process-pool worker is a fresh process anyway.
int current_process_id()
{
    static const int id = static_cast<int>(::getpid());
    return id;
}

// Turns an HTTP answer into an error code: 2xx is success; 4xx and 5xx are the status, with the
// API's own text (from any of the error shapes the contract lists) as the untrusted server message;
// anything else (a redirect not followed, an unknown status) is a bad answer.
error_code check_status(const detail::http_response& answer, diagnostics& diag)
{
    unsigned status = answer.status();
    if (status >= 200 && status < 300)
        return {};
    auto note = [&](const std::string& text) {
        diag.set_client_message(diag.client_message() + (diag.client_message().empty() ? "" : "; ") + text);
    };
    if (status < 400 || status > 599)
    {
        note("the server answered " + std::to_string(status) +
             (detail::is_followed_redirect(status) ? " (a redirect, and following redirects is off)" : "") +
             ", not the rates");
        return errc::bad_response;
    }
    diag.set_server_message(extract_error_message(answer.body));
    if (diag.server_message().empty() && !answer.body.empty())
        note("the error answer has no message in the API's form (JSON with 'detail', 'error' or 'message'): a "
             "proxy's or a server's own page?");
    return make_http_error(status);
}

// What an exception that escaped an operation becomes: errc::internal, with its text.
error_code internal_error(std::exception_ptr failure, diagnostics& diag)
{
    try
    {
        std::rethrow_exception(failure);
    }
    catch (const std::exception& e)
    {
        diag.set_client_message(std::string("internal error: ") + e.what());
    }
    catch (...)
    {
        diag.set_client_message("internal error: an exception of unknown type");
    }
    return errc::internal;
}

// Completes `handler` on its own associated executor with its cancellation slot connected, from a
// coroutine that returns its outcome (co_spawn's `void(exception_ptr, T)` adapted to ours).
template <class Result, class Signature, class Complete>
void spawn(const asio::any_io_executor& executor, asio::awaitable<Result> work,
           asio::any_completion_handler<Signature> handler, Complete complete)
{
    auto slot = handler.get_cancellation_slot();
    auto handler_executor = asio::get_associated_executor(handler, executor);
    detail::spawn_cancellable(executor, std::move(work), slot,
                              asio::bind_executor(handler_executor, [handler = std::move(handler), complete](
                                                                        std::exception_ptr failure, Result result) mutable {
                                  complete(std::move(handler), failure, std::move(result));
                              }));
}

// What every kind of outcome (rates, any URL) takes from the fetch: its timing (queued when the
// caller queued it), its attempts, 429s and redirects, and its error and explanation.
template <class Outcome>
void take_fetch_facts(detail::fetch_outcome& fetched, std::chrono::steady_clock::time_point queued, Outcome& outcome)
{
    outcome.timing = fetched.timing;
    outcome.timing.queued = queued;
    outcome.timing.thread_id = current_thread_number();
    outcome.timing.process_id = current_process_id();
    outcome.attempts = fetched.attempts;
    outcome.rate_limited = fetched.rate_limited;
    outcome.redirects = fetched.redirects;
    outcome.resent = fetched.resent;
    outcome.server_answered = fetched.response.got_answer;
    outcome.error = fetched.error;
    outcome.diag = std::move(fetched.diag);
}

// Counts the final answer's body on its way to the caller's sink.
class counting_sink final : public body_sink
{
public:
    explicit counting_sink(body_sink& to) : to_(to) {}

    using body_sink::begin;

    error_code begin(const body_head& head) override
    {
        bytes = 0;
        return to_.begin(head);
    }

    error_code write(std::string_view data) override
    {
        bytes += data.size();
        return to_.write(data);
    }

    std::optional<resume_point> resume_from() const override { return to_.resume_from(); }

    std::uint64_t bytes = 0; // of the final answer: none of those it resumed from

private:
    body_sink& to_;
};

// A fetched answer's status as an outcome: 2xx, and 304 to a conditional request, are answers;
// 4xx and 5xx are errors of their status; anything else (a redirect not followed) is not an answer.
error_code check_fetched_status(unsigned status, diagnostics& diag)
{
    if ((status >= 200 && status < 300) || status == 304)
        return {};
    if (status >= 400 && status <= 599)
        return make_http_error(status);
    diag.set_client_message("the server answered " + std::to_string(status) +
                            (detail::is_followed_redirect(status) ? " (a redirect, and following redirects is off)"
                             : status > 599                       ? ", a status HTTP does not define (they end at 599)"
                                                                  : ", which is not a final answer"));
    return errc::bad_response;
}

} // namespace

// The client's own work must never run concurrently: on an io_context run by several threads,
// its handlers would race on the pool, the throttles and the parsers. Unless the executor given
// is a strand already, or its owner says one thread runs it (`thread_safe` false), the client
// serialises itself on one. A strand over the io_context's own executor type is kept as that
// type (cheaper than a strand of the type-erased executor).
asio::any_io_executor serialised(asio::any_io_executor executor, bool thread_safe)
{
    using context_executor = asio::io_context::executor_type;
    if (!thread_safe)
        return executor;
    if (executor.target<asio::strand<context_executor>>() || executor.target<asio::strand<asio::any_io_executor>>())
        return executor;
    if (const auto* plain = executor.target<context_executor>())
        return asio::make_strand(*plain);
    return asio::make_strand(executor);
}

class client::impl : public std::enable_shared_from_this<impl>
{
public:
    impl(asio::any_io_executor executor, client_params params)
        : executor_(std::move(executor)), params_(std::move(params)), endpoint_(endpoint_or_throw(params_.api_url)),
          transport_(detail::make_pooled_transport(executor_, params_)), fetcher_(executor_, *transport_, params_)
    {
        origin_.scheme = "https";
        origin_.host = endpoint_.host;
        origin_.port = endpoint_.port;
    }

    void close()
    {
        transport_->close();
        fetcher_.close();
    }

    struct decoded_rates
    {
        error_code error;
        diagnostics diag;
        rates value;
    };

    // Decodes on the loop, or on the decode executor for a body big enough to be worth the trip.
    static asio::awaitable<void> decode(std::shared_ptr<impl> self, std::string body, rates_outcome& outcome)
    {
        if (!self->params_.decode_executor || body.size() < self->params_.offload_decode_above)
        {
            outcome.error = decode_rates(body, outcome.value, outcome.diag);
            co_return;
        }
        auto job = [body = std::move(body)] {
            decoded_rates decoded;
            decoded.error = decode_rates(body, decoded.value, decoded.diag);
            return decoded;
        };
        auto [ec, decoded] =
            co_await async_offload(self->params_.decode_executor, std::move(job), asio::as_tuple(asio::use_awaitable));
        outcome.error = ec ? ec : decoded.error;
        outcome.diag = std::move(decoded.diag);
        outcome.value = std::move(decoded.value);
    }

    const asio::any_io_executor& executor() const noexcept { return executor_; }

    // A GET of one of the API's targets, as JSON.
    detail::fetch_request api_request(std::string target) const
    {
        detail::fetch_request request;
        request.location = {origin_, std::move(target)};
        request.extra_fields = accept_json_;
        return request;
    }

    // One base: the fetch (throttle, retries, 429s, redirects), the status, decoding, and the check
    // that the answer is the one asked for.
    static asio::awaitable<rates_outcome> fetch_rates(std::shared_ptr<impl> self, currency_code base,
                                                      rates_query query, std::shared_ptr<retry_budget> budget)
    {
        co_await asio::this_coro::throw_if_cancelled(false);
        rates_outcome outcome;
        outcome.base = base;
        auto queued = std::chrono::steady_clock::now();
        auto fetched = co_await self->fetcher_.fetch(
            self->api_request(detail::rates_target(self->endpoint_, base, query)), budget.get());
        take_fetch_facts(fetched, queued, outcome);
        if (!outcome.error)
        {
            outcome.final_url = fetched.final_url;
            outcome.error = check_status(fetched.response, outcome.diag);
        }
        if (!outcome.error)
            co_await decode(self, std::move(fetched.response.body), outcome);
        if (!outcome.error)
            outcome.error = check_rates_answer(outcome.value, base, query, outcome.diag);
        if (outcome.error)
            outcome.value = {};
        outcome.timing.done = std::chrono::steady_clock::now();
        co_return outcome;
    }

    struct currencies_outcome
    {
        error_code error;
        diagnostics diag;
        currency_list value;
    };

    static asio::awaitable<currencies_outcome> fetch_currencies(std::shared_ptr<impl> self)
    {
        co_await asio::this_coro::throw_if_cancelled(false);
        currencies_outcome outcome;
        auto fetched =
            co_await self->fetcher_.fetch(self->api_request(detail::currencies_target(self->endpoint_)), nullptr);
        outcome.error = fetched.error;
        outcome.diag = std::move(fetched.diag);
        if (!outcome.error)
            outcome.error = check_status(fetched.response, outcome.diag);
        if (!outcome.error)
            outcome.error = decode_currencies(fetched.response.body, outcome.value, outcome.diag);
        co_return outcome;
    }

    // The retry budget a batch of `requests` spends: the one the clients share, as made (sized
    // for the whole job by whoever shares it), or else one of its own.
    static std::shared_ptr<retry_budget> batch_budget(const retry_params& retry, std::size_t requests)
    {
        return retry.shared_budget ? retry.shared_budget : retry_budget::for_batch(retry, requests);
    }

    static asio::awaitable<detail::batch_result> fetch_batch(std::shared_ptr<impl> self,
                                                             std::vector<currency_code> bases, rates_query query,
                                                             outcome_observer observe)
    {
        auto budget = batch_budget(self->params_.retry, bases.size());
        auto fetch = [self, query = std::move(query), budget](currency_code base) {
            return fetch_rates(self, base, query, budget);
        };
        // As many workers as connections may be open: more would only queue inside the pool.
        co_return co_await detail::run_batch(std::move(bases), self->params_.max_connections,
                                             self->params_.batch_timeout, std::move(fetch), std::move(observe));
    }

    // An item with its URL parsed: once, when it is taken from the caller's list, since its origin
    // decides when it may start (origin_lookahead).
    struct parsed_item
    {
        fetch_item item;
        detail::http_location location;
        std::string bad_url; // why the URL was refused, if it was
        std::chrono::steady_clock::time_point queued;
    };

    static parsed_item parse_item(fetch_item item)
    {
        parsed_item parsed{std::move(item), {}, {}, std::chrono::steady_clock::now()};
        if (detail::parse_http_location(parsed.item.url, parsed.location, parsed.bad_url) && parsed.bad_url.empty())
            parsed.bad_url = "not a usable URL";
        return parsed;
    }

    // One URL: the fetch (throttle, retries, 429s, redirects) and the status.
    static asio::awaitable<fetch_outcome> fetch_url(std::shared_ptr<impl> self, parsed_item parsed,
                                                    std::shared_ptr<retry_budget> budget)
    {
        co_await asio::this_coro::throw_if_cancelled(false);
        fetch_outcome outcome;
        auto& item = parsed.item;
        outcome.url = std::move(item.url);
        outcome.timing.queued = parsed.queued;
        if (!parsed.bad_url.empty())
        {
            outcome.error = errc::bad_url;
            outcome.diag.set_client_message(std::move(parsed.bad_url));
            outcome.timing.done = std::chrono::steady_clock::now();
            co_return outcome;
        }
        detail::fetch_request request;
        request.location = std::move(parsed.location);
        if (!item.fields.empty())
        {
            std::vector<detail::request_field> fields;
            fields.reserve(item.fields.size());
            for (auto& [name, value] : item.fields)
                fields.push_back({std::move(name), std::move(value)});
            request.extra_fields = std::make_shared<const std::vector<detail::request_field>>(std::move(fields));
        }
        std::optional<counting_sink> counted;
        if (item.sink)
            request.sink = &counted.emplace(*item.sink);
        auto fetched = co_await self->fetcher_.fetch(std::move(request), budget.get());
        take_fetch_facts(fetched, outcome.timing.queued, outcome);
        const auto& head = fetched.response.head;
        outcome.status = head.status;
        if (!outcome.error)
        {
            outcome.final_url = std::move(fetched.final_url);
            outcome.content_type = head.find("content-type").value_or("");
            outcome.etag = head.find("etag").value_or("");
            outcome.last_modified = head.find("last-modified").value_or("");
            outcome.error = check_fetched_status(head.status, outcome.diag);
        }
        outcome.resumed_from = fetched.resumed_from;
        if (counted)
            outcome.bytes = fetched.resumed_from + counted->bytes;
        else
        {
            outcome.body = std::move(fetched.response.body);
            outcome.bytes = outcome.body.size();
        }
        outcome.timing.done = std::chrono::steady_clock::now();
        co_return outcome;
    }

    // How an item of `run_fetches` ended, by its number in the order the feed gave it.
    using fetch_finish = std::function<void(std::size_t number, fetch_outcome, detail::item_end)>;

    // The items `next` gives, at most max_connections under way at once and at most
    // max_connections_per_origin to each origin: an item whose origin is full is parked
    // (origin_lookahead) while later items of other origins start. `finish` hears of every item
    // the feed gave, once. `window` (0: none): no item is taken from the feed while it would be
    // that many past the oldest unfinished one. `grow_budget`: each item adds to the retry budget.
    static asio::awaitable<detail::pulled_batch_end> run_fetches(std::shared_ptr<impl> self, fetch_feed next,
                                                                 std::size_t window,
                                                                 std::shared_ptr<retry_budget> budget,
                                                                 bool grow_budget, fetch_finish finish)
    {
        co_await asio::this_coro::throw_if_cancelled(false);
        // How far ahead of a full origin's items the list is read: a list of one slow host is read
        // that far ahead, no further.
        const std::size_t most_parked = self->params_.max_waiting_aside;
        detail::origin_lookahead<parsed_item> lookahead(
            self->params_.max_connections_per_origin,
            window > 0 && most_parked > 0 ? std::min(window, most_parked) : most_parked);
        struct under_way
        {
            std::size_t number;
            std::optional<detail::origin> where; // none for a URL refused before sending
        };
        std::unordered_map<std::size_t, under_way> running; // by the batch's index
        detail::ordering_window order(window); // the items the feed gave, numbered as given
        bool feed_ended = false;
        const detail::batch_waker* wake_batch = nullptr;

        auto start = [&](std::size_t index, std::size_t number, parsed_item parsed,
                         bool counted) -> detail::pulled_item<fetch_outcome> {
            std::optional<detail::origin> where;
            if (counted)
                where = parsed.location.origin;
            running.emplace(index, under_way{number, std::move(where)});
            return {detail::batch_task<fetch_outcome>(
                [self, budget, parsed = std::move(parsed)]() mutable { return fetch_url(self, std::move(parsed), budget); })};
        };
        detail::batch_take<fetch_outcome> take = [&](std::size_t index,
                                                    const detail::batch_waker& wake) -> detail::pulled_item<fetch_outcome> {
            wake_batch = &wake;
            if (auto parked = lookahead.take_parked())
                return start(index, parked->number, std::move(parked->item), true);
            while (!feed_ended && lookahead.may_offer() && order.has_room())
            {
                auto answer = next(wake);
                if (!answer.item)
                {
                    if (answer.pending)
                        return {std::nullopt, true};
                    feed_ended = true;
                    break;
                }
                const std::size_t number = order.open();
                if (grow_budget)
                    budget->add_request();
                auto parsed = parse_item(std::move(*answer.item));
                if (!parsed.bad_url.empty())
                    return start(index, number, std::move(parsed), false);
                auto where = parsed.location.origin;
                if (auto ready = lookahead.offer(where, number, std::move(parsed)))
                    return start(index, number, std::move(ready->item), true);
            }
            if (feed_ended && lookahead.parked() == 0)
                return {};
            // Parked items wait for their origins, or the window for the oldest item: an item's
            // end wakes a worker (below).
            return {std::nullopt, true};
        };
        fetch_finish ended = [&](std::size_t index, fetch_outcome outcome, detail::item_end how) {
            auto found = running.find(index);
            if (found == running.end())
                return;
            auto [number, where] = std::move(found->second);
            running.erase(found);
            bool wake = where && lookahead.ended(*where);
            if (order.close(number))
                wake = wake || window > 0;
            finish(number, std::move(outcome), how);
            if (wake && wake_batch)
                (*wake_batch)();
        };
        auto end = co_await detail::run_pulled_batch<fetch_outcome>(
            self->params_.max_connections, 0, std::chrono::steady_clock::duration::max(), std::move(take),
            std::move(ended));
        // Cancelled: the items still parked were given by the feed, and are told of too.
        for (auto& parked : lookahead.take_all())
        {
            fetch_outcome outcome;
            outcome.url = std::move(parked.item.item.url);
            outcome.error = asio::error::operation_aborted;
            outcome.diag.set_client_message("cancelled before the request was sent");
            outcome.timing.queued = parked.item.queued;
            outcome.timing.done = std::chrono::steady_clock::now();
            finish(parked.number, std::move(outcome), detail::item_end::cancelled);
        }
        co_return end;
    }

    // What a cancelled or failed item of a streamed fetch says.
    static void settle(fetch_outcome& outcome, detail::item_end how)
    {
        if (how == detail::item_end::failed)
        {
            outcome.error = errc::worker_failed;
            outcome.diag.set_client_message("the request failed unexpectedly (an exception)");
        }
        else if (how == detail::item_end::cancelled && outcome.ok())
        {
            // Done as the cancellation came: the caller asked for no more, so it is not kept.
            outcome.error = asio::error::operation_aborted;
            outcome.diag.set_client_message("cancelled before the answer came");
        }
    }

    static asio::awaitable<detail::basic_batch_result<fetch_outcome>>
    fetch_many(std::shared_ptr<impl> self, std::vector<fetch_item> items, fetch_observer observe)
    {
        auto budget = batch_budget(self->params_.retry, items.size());
        detail::basic_batch_result<fetch_outcome> result;
        result.outcomes.resize(items.size());
        std::vector<bool> observed(items.size(), false);
        for (std::size_t i = 0; i < items.size(); ++i)
            result.outcomes[i].url = items[i].url;
        std::size_t taken = 0;
        fetch_feed feed = [&](const fetch_waker&) {
            return taken < items.size() ? fetch_feed_answer::next(std::move(items[taken++])) : fetch_feed_answer::end();
        };
        fetch_finish finish = [&](std::size_t number, fetch_outcome outcome, detail::item_end how) {
            settle(outcome, how);
            auto& kept = result.outcomes[number];
            kept = std::move(outcome);
            observed[number] = true;
            if (observe)
                observe(number, kept);
        };
        auto end = co_await run_fetches(self, std::move(feed), 0, std::move(budget), false, std::move(finish));
        if (end.cancelled)
            result.error = asio::error::operation_aborted;
        // Items never taken from the list: the batch was cancelled first.
        for (std::size_t i = 0; i < result.outcomes.size(); ++i)
            if (!observed[i])
            {
                auto& outcome = result.outcomes[i];
                outcome.error = asio::error::operation_aborted;
                outcome.diag.set_client_message("cancelled before the request was sent");
                if (observe)
                    observe(i, outcome);
            }
        co_return result;
    }

    static asio::awaitable<error_code> fetch_stream(std::shared_ptr<impl> self, fetch_feed next,
                                                    fetch_observer observe, std::size_t window)
    {
        // A stream's items join its budget as they start (a shared one too: made for a list read
        // as it goes, by clients that share the list).
        auto budget = batch_budget(self->params_.retry, 0);
        fetch_finish finish = [&](std::size_t number, fetch_outcome outcome, detail::item_end how) {
            settle(outcome, how);
            if (observe)
                observe(number, outcome);
        };
        auto end = co_await run_fetches(self, std::move(next), window, std::move(budget), true, std::move(finish));
        co_return end.cancelled ? error_code(asio::error::operation_aborted) : error_code();
    }

    asio::any_io_executor executor_;
    client_params params_;
    detail::api_endpoint endpoint_;
    detail::origin origin_;
    // Made once, shared by every request.
    detail::request_fields accept_json_ =
        std::make_shared<const std::vector<detail::request_field>>(std::vector<detail::request_field>{{"Accept", "application/json"}});
    std::unique_ptr<detail::transport> transport_;
    detail::fetcher fetcher_;
};

client::client(asio::any_io_executor executor, client_params params)
    : impl_(std::make_shared<impl>(serialised(std::move(executor), params.thread_safe), std::move(params)))
{
}

client::~client()
{
    if (impl_)
        impl_->close();
}

client::client(client&&) noexcept = default;
client& client::operator=(client&& other) noexcept
{
    if (this != &other)
    {
        if (impl_)
            impl_->close();
        impl_ = std::move(other.impl_);
    }
    return *this;
}

asio::any_io_executor client::get_executor() const noexcept
{
    return impl_->executor();
}

void client::close()
{
    impl_->close();
}

client::stats_type client::stats() const
{
    stats_type counters;
    counters.throttle_wakeups = impl_->fetcher_.throttle_wakeups();
    counters.rate_limited_answers = impl_->fetcher_.rate_limited();
    return counters;
}

void client::async_get_rates_impl(currency_code base, rates_query query, diagnostics* diag,
                                  asio::any_completion_handler<void(error_code, rates)> handler)
{
    spawn(impl_->executor(), impl::fetch_rates(impl_, base, std::move(query), nullptr), std::move(handler),
          [diag](auto handler, std::exception_ptr failure, rates_outcome outcome) {
              if (failure)
                  outcome.error = internal_error(failure, outcome.diag);
              if (diag)
                  *diag = std::move(outcome.diag);
              std::move(handler)(outcome.error, std::move(outcome.value));
          });
}

void client::async_get_rates_batch_impl(
    std::vector<currency_code> bases, rates_query query, outcome_observer observe,
    asio::any_completion_handler<void(error_code, std::vector<rates_outcome>)> handler)
{
    spawn(impl_->executor(), impl::fetch_batch(impl_, std::move(bases), std::move(query), std::move(observe)),
          std::move(handler),
          [](auto handler, std::exception_ptr failure, detail::batch_result batch) {
              if (failure)
              {
                  diagnostics ignored;
                  batch.error = internal_error(failure, ignored);
              }
              std::move(handler)(batch.error, std::move(batch.outcomes));
          });
}

void client::async_get_currencies_impl(diagnostics* diag,
                                       asio::any_completion_handler<void(error_code, currency_list)> handler)
{
    spawn(impl_->executor(), impl::fetch_currencies(impl_), std::move(handler),
          [diag](auto handler, std::exception_ptr failure, impl::currencies_outcome outcome) {
              if (failure)
                  outcome.error = internal_error(failure, outcome.diag);
              if (diag)
                  *diag = std::move(outcome.diag);
              std::move(handler)(outcome.error, std::move(outcome.value));
          });
}

void client::async_fetch_impl(fetch_item item, asio::any_completion_handler<void(error_code, fetch_outcome)> handler)
{
    spawn(impl_->executor(), impl::fetch_url(impl_, impl::parse_item(std::move(item)), nullptr), std::move(handler),
          [](auto handler, std::exception_ptr failure, fetch_outcome outcome) {
              if (failure)
                  outcome.error = internal_error(failure, outcome.diag);
              auto error = outcome.error;
              std::move(handler)(error, std::move(outcome));
          });
}

void client::async_fetch_batch_impl(
    std::vector<fetch_item> items, fetch_observer observe,
    asio::any_completion_handler<void(error_code, std::vector<fetch_outcome>)> handler)
{
    spawn(impl_->executor(), impl::fetch_many(impl_, std::move(items), std::move(observe)), std::move(handler),
          [](auto handler, std::exception_ptr failure, detail::basic_batch_result<fetch_outcome> batch) {
              if (failure)
              {
                  diagnostics ignored;
                  batch.error = internal_error(failure, ignored);
              }
              std::move(handler)(batch.error, std::move(batch.outcomes));
          });
}

void client::async_fetch_stream_impl(fetch_feed next, fetch_observer observe, std::size_t window,
                                     asio::any_completion_handler<void(error_code)> handler)
{
    spawn(impl_->executor(), impl::fetch_stream(impl_, std::move(next), std::move(observe), window), std::move(handler),
          [](auto handler, std::exception_ptr failure, error_code error) {
              if (failure)
              {
                  diagnostics ignored;
                  error = internal_error(failure, ignored);
              }
              std::move(handler)(error);
          });
}

} // namespace fxrates
