#include <fxrates/blocking_client.hpp>
#include <fxrates/client.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <stop_token>

namespace fxrates {

struct blocking_client::impl
{
    explicit impl(client_params params) : api(context, std::move(params)) {}

    boost::asio::io_context context{1};
    client api;
};

blocking_client::blocking_client(client_params params) : impl_(std::make_unique<impl>(std::move(params))) {}
blocking_client::~blocking_client() = default;
blocking_client::blocking_client(blocking_client&&) noexcept = default;
blocking_client& blocking_client::operator=(blocking_client&&) noexcept = default;

rates_outcome blocking_client::get_rates(currency_code base, const rates_query& query)
{
    return get_rates(base, query, std::chrono::steady_clock::time_point::max());
}

rates_outcome blocking_client::get_rates(currency_code base, const rates_query& query,
                                         std::chrono::steady_clock::time_point deadline, std::stop_token stop)
{
    namespace asio = boost::asio;
    // What a stop request's posted cancellation needs: it may run after this call has returned
    // (during a later call), and must then do nothing.
    struct request_state
    {
        asio::cancellation_signal abandon;
        bool done = false;
    };
    auto state = std::make_shared<request_state>();
    rates_outcome outcome;
    outcome.base = base;
    auto& context = impl_->context;
    // A batch of one, because it yields the whole outcome, timing included.
    impl_->api.async_get_rates_batch(
        {base}, query,
        asio::bind_cancellation_slot(state->abandon.slot(), [&](error_code, std::vector<rates_outcome> outcomes) {
            state->done = true;
            if (!outcomes.empty())
                outcome = std::move(outcomes.front());
        }));
    auto abandon = [state] {
        if (!state->done)
            state->abandon.emit(asio::cancellation_type::terminal); // every step honours it at once
    };
    // From the thread that requests the stop: the signal is emitted on the client's own loop.
    std::stop_callback on_stop(stop, [&context, abandon] { asio::post(context, abandon); });

    // The deadline abandons the request as a stop does, through the client's own cancellation.
    bool too_late = false;
    asio::steady_timer limit(context, deadline);
    limit.async_wait([&too_late, state, abandon](error_code ec) {
        if (!ec && !state->done) // a request that has just finished keeps its answer
        {
            too_late = true;
            abandon();
        }
    });

    // Blocks this thread until the request is done, within the client's time limits and `deadline`.
    // It waits for the completion only, not for all work to end: a DNS lookup, which cannot be
    // cancelled, would hold the loop.
    context.restart();
    while (!state->done && context.run_one() != 0)
    {
    }
    limit.cancel();
    context.restart();
    context.poll(); // the timer's end, and what the completion left ready (a connection going back to the pool)
    if (too_late)
    {
        outcome.error = errc::batch_deadline;
        outcome.value = {};
        outcome.diag = {};
        outcome.diag.set_client_message("no answer before the batch's deadline");
    }
    else if (outcome.error == asio::error::operation_aborted)
        outcome.diag.set_client_message("stopped before the answer came");
    return outcome;
}

} // namespace fxrates
