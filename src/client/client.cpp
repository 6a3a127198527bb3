#include <fxrates/client.hpp>

#include "client/api_url.hpp"
#include "client/batch.hpp"
#include "client/transport.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <stdexcept>

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
          transport_(executor_, endpoint_or_throw(params_.api_url), params_)
    {
    }

    const asio::any_io_executor& executor() const noexcept { return executor_; }

    static asio::awaitable<rates_outcome> fetch_rates(std::shared_ptr<impl> self, currency_code base,
                                                      rates_query query)
    {
        // Cancellation is reported through error codes; an exception here would skip the pool's
        // bookkeeping. The setting holds for everything this coroutine awaits.
        co_await asio::this_coro::throw_if_cancelled(false);
        rates_outcome outcome;
        outcome.base = base;
        detail::http_answer answer;
        auto target = detail::rates_target(self->transport_.endpoint(), base, query);
        outcome.error = co_await self->transport_.get(std::move(target), answer, outcome.diag);
        if (!outcome.error)
            outcome.error = check_status(answer, outcome.diag);
        if (!outcome.error)
            outcome.error = decode_rates(answer.body, outcome.value, outcome.diag);
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
        detail::http_answer answer;
        outcome.error = co_await self->transport_.get(detail::currencies_target(self->transport_.endpoint()), answer,
                                                      outcome.diag);
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
        auto fetch = [self, query = std::move(query)](currency_code base) { return fetch_rates(self, base, query); };
        co_return co_await detail::run_batch(std::move(bases), self->params_.max_connections,
                                             self->params_.batch_timeout, std::move(fetch));
    }

    asio::any_io_executor executor_;
    client_params params_;
    detail::https_transport transport_;
};

client::client(asio::any_io_executor executor, client_params params)
    : impl_(std::make_shared<impl>(std::move(executor), std::move(params)))
{
}

client::~client()
{
    if (impl_)
        impl_->transport_.close();
}

client::client(client&&) noexcept = default;
client& client::operator=(client&& other) noexcept
{
    if (this != &other)
    {
        if (impl_)
            impl_->transport_.close();
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
    impl_->transport_.close();
}

void client::async_get_rates_impl(currency_code base, rates_query query, diagnostics* diag,
                                  asio::any_completion_handler<void(error_code, rates)> handler)
{
    spawn(impl_->executor(), impl::fetch_rates(impl_, base, std::move(query)), std::move(handler),
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
