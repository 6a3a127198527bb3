#include <fxrates/blocking_client.hpp>
#include <fxrates/client.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>

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
                                         std::chrono::steady_clock::time_point deadline)
{
    rates_outcome outcome;
    outcome.base = base;
    bool done = false;
    boost::asio::cancellation_signal abandon;
    // A batch of one, because it yields the whole outcome, timing included.
    impl_->api.async_get_rates_batch(
        {base}, query,
        boost::asio::bind_cancellation_slot(abandon.slot(), [&](error_code, std::vector<rates_outcome> outcomes) {
            done = true;
            if (!outcomes.empty())
                outcome = std::move(outcomes.front());
        }));
    // Blocks this thread until the request is done, within the client's time limits and `deadline`.
    auto& context = impl_->context;
    context.restart();
    if (deadline == std::chrono::steady_clock::time_point::max())
        context.run();
    else
    {
        while (!done && std::chrono::steady_clock::now() < deadline && context.run_one_until(deadline) != 0)
        {
        }
        if (!done)
        {
            abandon.emit(boost::asio::cancellation_type::terminal); // every step honours it at once
            context.restart();
            context.run();
            outcome.error = errc::batch_deadline;
            outcome.value = {};
            outcome.diag = {};
            outcome.diag.set_client_message("no answer before the batch's deadline");
        }
    }
    return outcome;
}

} // namespace fxrates
