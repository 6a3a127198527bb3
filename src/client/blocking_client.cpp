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

namespace asio = boost::asio;

struct blocking_client::impl
{
    explicit impl(client_params params) : api(context, std::move(params)) {}

    boost::asio::io_context context{1};
    client api;
};

namespace {

// What a request's completion and a stop request's posted cancellation share. Both may run after
// the blocking call has returned (a stop's cancellation during a later call; the completion if the
// call is left by an exception), so neither refers to the call's frame: they write here.
template <class Outcome>
struct request_state
{
    asio::cancellation_signal abandon;
    bool done = false;
    bool too_late = false;
    Outcome outcome;
};

// Runs one request of the asynchronous client on `context` until it completes, `deadline` passes
// or `stop` is requested, whichever is first; `start(slot, state)` starts it with its cancellation
// bound to `slot`, its completion writing `state->outcome` and setting `state->done`. The shared
// machinery of get_rates and fetch: the same deadline, stop and loop handling for either outcome.
template <class Outcome, class Start>
std::shared_ptr<request_state<Outcome>> run_blocking(asio::io_context& context, Outcome initial,
                                                     std::chrono::steady_clock::time_point deadline,
                                                     std::stop_token stop, Start start)
{
    auto state = std::make_shared<request_state<Outcome>>();
    state->outcome = std::move(initial);

    // Everything that may throw comes before the request starts: the deadline's timer is the
    // first I/O object of a fresh loop, which creates the loop's reactor (an eventfd, an epoll and
    // a timerfd), and fails with EMFILE when the process is out of descriptors. Thrown after the
    // request had been queued, it left that request on the loop, to complete during the next call
    // into a frame that was gone.
    asio::steady_timer limit(context, deadline);

    start(state->abandon.slot(), state);
    auto abandon = [state] {
        if (!state->done)
            state->abandon.emit(asio::cancellation_type::terminal); // every step honours it at once
    };
    // From the thread that requests the stop: the signal is emitted on the client's own loop.
    std::stop_callback on_stop(stop, [&context, abandon] { asio::post(context, abandon); });

    // The deadline abandons the request as a stop does, through the client's own cancellation.
    limit.async_wait([state, abandon](error_code ec) {
        if (!ec && !state->done) // a request that has just finished keeps its answer
        {
            state->too_late = true;
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
    auto& outcome = state->outcome;
    if (state->too_late)
    {
        outcome.error = errc::batch_deadline;
        outcome.diag = {};
        outcome.diag.set_client_message("no answer before the batch's deadline");
    }
    else if (outcome.error == asio::error::operation_aborted)
        outcome.diag.set_client_message("stopped before the answer came");
    return state;
}

} // namespace

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
    rates_outcome initial;
    initial.base = base;
    auto& api = impl_->api;
    auto state = run_blocking(impl_->context, std::move(initial), deadline, std::move(stop),
                              [&](asio::cancellation_slot slot, auto state) {
                                  // A batch of one, because it yields the whole outcome, timing included.
                                  api.async_get_rates_batch(
                                      {base}, query,
                                      asio::bind_cancellation_slot(
                                          slot, [state](error_code, std::vector<rates_outcome> outcomes) {
                                              state->done = true;
                                              if (!outcomes.empty())
                                                  state->outcome = std::move(outcomes.front());
                                          }));
                              });
    if (state->too_late)
        state->outcome.value = {};
    return std::move(state->outcome);
}

fetch_outcome blocking_client::fetch(fetch_item item, std::chrono::steady_clock::time_point deadline,
                                     std::stop_token stop)
{
    fetch_outcome initial;
    initial.url = item.url;
    auto& api = impl_->api;
    auto state = run_blocking(impl_->context, std::move(initial), deadline, std::move(stop),
                              [&](asio::cancellation_slot slot, auto state) {
                                  api.async_fetch(std::move(item),
                                                  asio::bind_cancellation_slot(
                                                      slot, [state](error_code, fetch_outcome outcome) {
                                                          state->done = true;
                                                          state->outcome = std::move(outcome);
                                                      }));
                              });
    if (state->too_late)
        state->outcome.body.clear();
    return std::move(state->outcome);
}

} // namespace fxrates
