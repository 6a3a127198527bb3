#include <fxrates/blocking_client.hpp>
#include <fxrates/client.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

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

    // Blocks this thread until the request is done, within the client's time limits and `deadline`.
    // Once abandoned, it waits only for the completion, not for all work to end (a DNS lookup
    // cannot be cancelled, and would hold the loop).
    const bool bounded = deadline != std::chrono::steady_clock::time_point::max();
    bool too_late = false;
    context.restart();
    while (!state->done)
    {
        if (bounded && !too_late && std::chrono::steady_clock::now() >= deadline)
        {
            too_late = true;
            abandon();
            continue;
        }
        std::size_t ran = bounded && !too_late ? context.run_one_until(deadline) : context.run_one();
        if (ran == 0 && context.stopped())
            break; // out of work without a completion: cannot happen, but must not spin
    }
    if (!context.stopped())
        context.poll(); // what the completion left ready (a connection going back to the pool)
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
