#include <fxrates/blocking_client.hpp>
#include <fxrates/client.hpp>

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
    rates_outcome outcome;
    outcome.base = base;
    // A batch of one, because it yields the whole outcome, timing included.
    impl_->api.async_get_rates_batch({base}, query, [&outcome](error_code, std::vector<rates_outcome> outcomes) {
        if (!outcomes.empty())
            outcome = std::move(outcomes.front());
    });
    // Blocks this thread until the request is done, within the client's time limits.
    impl_->context.restart();
    impl_->context.run();
    return outcome;
}

} // namespace fxrates
