#include <fxrates/client.hpp>
#include <fxrates/offload.hpp>
#include <fxrates/retry_policy.hpp>
#include <fxrates/throttle.hpp>

#include "client/api_url.hpp"
#include "client/batch.hpp"
#include "client/deadline.hpp"
#include "client/transport.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <optional>
#include <random>
#include <stdexcept>
#include <thread>

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

// With throw_if_cancelled(false) a cancellation that lands between two operations only marks
// the coroutine's state: look at it before starting the next step.
asio::awaitable<bool> cancelled()
{
    auto state = co_await asio::this_coro::cancellation_state;
    co_return state.cancelled() != asio::cancellation_type::none;
}

// Read once: getpid is a system call, and a process-pool worker is a fresh process anyway.
int current_process_id()
{
    static const int id = static_cast<int>(::getpid());
    return id;
}

// Turns an HTTP answer into an error code: 2xx is success; otherwise the status, with the API's
// own text (from any of the error shapes the contract lists) as the untrusted server message.
error_code check_status(const detail::http_answer& answer, diagnostics& diag)
{
    if (answer.status >= 200 && answer.status < 300)
        return {};
    diag.set_server_message(extract_error_message(answer.body));
    if (diag.server_message().empty() && !answer.body.empty())
        diag.set_client_message("the error answer is not the API's JSON (a proxy's page?)");
    return make_http_error(answer.status);
}

// Completes `handler` on its own associated executor with its cancellation slot connected, from a
// coroutine that returns its outcome (co_spawn's `void(exception_ptr, T)` adapted to ours).
template <class Result, class Signature, class Complete>
void spawn(const asio::any_io_executor& executor, asio::awaitable<Result> work,
           asio::any_completion_handler<Signature> handler, Complete complete)
{
    auto slot = handler.get_cancellation_slot();
    auto handler_executor = asio::get_associated_executor(handler, executor);
    asio::co_spawn(executor, std::move(work),
                   asio::bind_cancellation_slot(
                       slot, asio::bind_executor(handler_executor, [handler = std::move(handler), complete](
                                                                       std::exception_ptr failure, Result result) mutable {
                           complete(std::move(handler), failure, std::move(result));
                       })));
}

} // namespace

class client::impl : public std::enable_shared_from_this<impl>
{
public:
    impl(asio::any_io_executor executor, client_params params)
        : executor_(std::move(executor)), params_(std::move(params)),
          transport_(executor_, endpoint_or_throw(params_.api_url), params_), retry_(params_.retry),
          random_(std::random_device{}())
    {
        if (params_.rate != 0)
            throttle_.emplace(executor_, params_.rate, params_.burst);
    }

    void close()
    {
        transport_.close();
        if (throttle_)
            throttle_->close();
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

    static asio::awaitable<rates_outcome> fetch_rates(std::shared_ptr<impl> self, currency_code base,
                                                      rates_query query, std::shared_ptr<retry_budget> budget)
    {
        // Cancellation is reported through error codes; an exception here would skip the pool's
        // bookkeeping. The setting holds for everything this coroutine awaits.
        co_await asio::this_coro::throw_if_cancelled(false);
        rates_outcome outcome;
        outcome.base = base;
        auto queued = std::chrono::steady_clock::now();
        auto total_deadline = detail::deadline_after(self->params_.total_timeout, queued);
        auto target = detail::rates_target(self->transport_.endpoint(), base, query);
        for (unsigned attempt = 1;; ++attempt)
        {
            if (co_await cancelled())
            {
                outcome.error = asio::error::operation_aborted;
                outcome.diag.set_client_message("stopped before the request was sent");
                break;
            }
            outcome.diag.clear();
            outcome.timing = {};
            outcome.timing.queued = queued;
            auto retry_after = co_await attempt_once(self, target, outcome, total_deadline);
            outcome.attempts = attempt;
            if (!outcome.error)
                break;
            double unit = std::uniform_real_distribution<double>(0.0, 1.0)(self->random_);
            auto decision = self->retry_.after_failure(attempt, outcome.error, retry_after, unit);
            if (!decision.retry)
                break;
            if (detail::deadline_after(decision.delay) >= total_deadline)
            {
                add_note(outcome.diag, "not retried: " + detail::limit_text("total timeout", self->params_.total_timeout) +
                                           " would pass first");
                break;
            }
            if (budget && !budget->try_spend())
            {
                add_note(outcome.diag, "not retried: the batch's retry budget is spent");
                break;
            }
            asio::steady_timer backoff(self->executor_, decision.delay);
            auto [ec] = co_await backoff.async_wait(asio::as_tuple(asio::use_awaitable));
            if (ec)
            {
                outcome.error = asio::error::operation_aborted;
                outcome.diag.set_client_message("stopped while waiting to retry");
                break;
            }
        }
        outcome.timing.done = std::chrono::steady_clock::now();
        co_return outcome;
    }

    static void add_note(diagnostics& diag, const std::string& note)
    {
        diag.set_client_message(diag.client_message() + (diag.client_message().empty() ? "" : "; ") + note);
    }

    // The deadlines of an attempt starting now, within the base's total deadline.
    detail::request_deadlines deadlines_from_now(std::chrono::steady_clock::time_point total_deadline) const
    {
        using detail::named_deadline;
        auto now = std::chrono::steady_clock::now();
        detail::request_deadlines deadlines;
        deadlines.request = named_deadline::earlier(
            {total_deadline, "total timeout", params_.total_timeout},
            {detail::deadline_after(params_.request_timeout, now), "request timeout", params_.request_timeout});
        deadlines.queue = named_deadline::earlier(
            {detail::deadline_after(params_.queue_timeout, now), "queue timeout", params_.queue_timeout},
            deadlines.request);
        return deadlines;
    }

    // One request: throttle, transport, status, decoding. Returns the server's Retry-After.
    static asio::awaitable<std::optional<std::chrono::steady_clock::duration>>
    attempt_once(std::shared_ptr<impl> self, const std::string& target, rates_outcome& outcome,
                 std::chrono::steady_clock::time_point total_deadline)
    {
        auto& timing = outcome.timing;
        timing.thread_id = current_thread_number();
        timing.process_id = current_process_id();
        auto deadlines = self->deadlines_from_now(total_deadline);
        if (self->throttle_)
            if (!co_await wait_for_throttle(self, deadlines, outcome))
                co_return std::nullopt;
        timing.granted = std::chrono::steady_clock::now();
        detail::http_answer answer;
        outcome.error = co_await self->transport_.get(target, answer, outcome.diag, timing, deadlines);
        std::optional<std::chrono::steady_clock::duration> retry_after;
        if (!outcome.error && answer.retry_after)
            retry_after = *answer.retry_after;
        if (!outcome.error && answer.status == 429 && retry_after && self->throttle_ &&
            self->retry_.honours(*retry_after))
        {
            // One pause for everyone queued behind the throttle, not one sleep per request. A
            // longer Retry-After than we would wait for is not obeyed: those requests fail instead.
            self->throttle_->pause_until(detail::deadline_after(*retry_after));
        }
        if (!outcome.error)
            outcome.error = check_status(answer, outcome.diag);
        if (!outcome.error)
            co_await decode(self, std::move(answer.body), outcome);
        co_return retry_after;
    }

    // Waits for the throttle's grant until the queue deadline. False, with the outcome's error
    // set, if it did not come.
    static asio::awaitable<bool> wait_for_throttle(std::shared_ptr<impl> self,
                                                   const detail::request_deadlines& deadlines, rates_outcome& outcome)
    {
        asio::steady_timer queue_limit(self->executor_, deadlines.queue.at);
        // Whichever finishes first cancels the other; both results are looked at, since a grant
        // may come in the same instant as the deadline (and then the token is taken: use it).
        auto [order, grant_ec, limit_ec] =
            co_await asio::experimental::make_parallel_group(
                self->throttle_->async_acquire(1, asio::deferred), queue_limit.async_wait(asio::deferred))
                .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
        if (!grant_ec)
            co_return true;
        bool deadline_passed = order[0] == 1 && !limit_ec;
        if (!deadline_passed || co_await cancelled())
        {
            // Cancelled, or the client closed (which closes its throttle).
            outcome.error = grant_ec;
            outcome.diag.set_client_message("stopped while waiting for the rate limit");
            co_return false;
        }
        outcome.error = asio::error::timed_out;
        outcome.diag.set_client_message(detail::rate_limit_held_message(deadlines.queue.text()));
        co_return false;
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
        detail::http_answer answer;
        request_timing timing;
        auto deadlines = self->deadlines_from_now(detail::deadline_after(self->params_.total_timeout));
        outcome.error = co_await self->transport_.get(detail::currencies_target(self->transport_.endpoint()), answer,
                                                      outcome.diag, timing, deadlines);
        if (!outcome.error)
            outcome.error = check_status(answer, outcome.diag);
        if (!outcome.error)
            outcome.error = decode_currencies(answer.body, outcome.value, outcome.diag);
        co_return outcome;
    }

    static asio::awaitable<detail::batch_result> fetch_batch(std::shared_ptr<impl> self,
                                                             std::vector<currency_code> bases, rates_query query)
    {
        // As many workers as connections may be open: more would only queue inside the pool.
        auto budget = std::make_shared<retry_budget>(self->params_.retry.budget_ratio, bases.size());
        auto fetch = [self, query = std::move(query), budget](currency_code base) {
            return fetch_rates(self, base, query, budget);
        };
        co_return co_await detail::run_batch(std::move(bases), self->params_.max_connections,
                                             self->params_.batch_timeout, std::move(fetch));
    }

    asio::any_io_executor executor_;
    client_params params_;
    detail::https_transport transport_;
    std::optional<throttle> throttle_;
    retry_policy retry_;
    std::minstd_rand random_; // the backoff's jitter
};

client::client(asio::any_io_executor executor, client_params params)
    : impl_(std::make_shared<impl>(std::move(executor), std::move(params)))
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
    if (impl_->throttle_)
        counters.throttle_wakeups = impl_->throttle_->wakeups();
    return counters;
}

void client::async_get_rates_impl(currency_code base, rates_query query, diagnostics* diag,
                                  asio::any_completion_handler<void(error_code, rates)> handler)
{
    spawn(impl_->executor(), impl::fetch_rates(impl_, base, std::move(query), nullptr), std::move(handler),
          [diag](auto handler, std::exception_ptr failure, rates_outcome outcome) {
              if (failure)
                  outcome.error = asio::error::operation_aborted;
              if (diag)
                  *diag = std::move(outcome.diag);
              std::move(handler)(outcome.error, std::move(outcome.value));
          });
}

void client::async_get_rates_batch_impl(
    std::vector<currency_code> bases, rates_query query,
    asio::any_completion_handler<void(error_code, std::vector<rates_outcome>)> handler)
{
    spawn(impl_->executor(), impl::fetch_batch(impl_, std::move(bases), std::move(query)), std::move(handler),
          [](auto handler, std::exception_ptr failure, detail::batch_result batch) {
              if (failure)
                  batch.error = asio::error::operation_aborted;
              std::move(handler)(batch.error, std::move(batch.outcomes));
          });
}

void client::async_get_currencies_impl(diagnostics* diag,
                                       asio::any_completion_handler<void(error_code, currency_list)> handler)
{
    spawn(impl_->executor(), impl::fetch_currencies(impl_), std::move(handler),
          [diag](auto handler, std::exception_ptr failure, impl::currencies_outcome outcome) {
              if (failure)
                  outcome.error = asio::error::operation_aborted;
              if (diag)
                  *diag = std::move(outcome.diag);
              std::move(handler)(outcome.error, std::move(outcome.value));
          });
}

} // namespace fxrates
