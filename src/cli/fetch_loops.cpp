#include "cli/fetch_loops.hpp"

#include "cli/fetch/item_sinks.hpp"

#include <fxrates/client.hpp>
#include <fxrates/retry_policy.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/post.hpp>

#include <unordered_map>

namespace fxrates::cli {

namespace asio = boost::asio;


// One loop: its thread, and what it needs from the others' threads.
struct loops_fetch::loop
{
    asio::io_context context{1};
    asio::cancellation_signal stop; // emitted on this loop's thread only
    // The loop's items under way, by the loop's own index: their run-wide number and locked sink.
    std::unordered_map<std::size_t, std::pair<std::size_t, std::unique_ptr<fetch::locked_sink>>> under_way;
    std::size_t taken = 0;
    std::thread thread;
};

loops_fetch::loops_fetch(asio::io_context& context, const loop_shares& shares, source next, fetch_observer observe,
                         bool lock_sinks, asio::cancellation_slot cancel, std::function<void()> done)
    : next_(std::move(next)), observe_(std::move(observe)), lock_sinks_(lock_sinks), context_(context),
      work_(context.get_executor()), done_(std::move(done)), running_(shares.loops)
{
    for (std::size_t k = 0; k < shares.loops; ++k)
        loops_.push_back(std::make_unique<loop>());
    // Emitted on the main loop's thread; each loop stops on its own thread.
    if (cancel.is_connected())
        cancel.assign([this](asio::cancellation_type type) {
            for (auto& each : loops_)
                asio::post(each->context, [&stop = each->stop, type] { stop.emit(type); });
        });
    // One retry budget for the run, as one loop's stream has: the loops' items join it as they start.
    auto budget = retry_budget::for_batch(shares.params.front().retry, 0);
    for (std::size_t k = 0; k < shares.loops; ++k)
    {
        auto params = shares.params[k];
        params.retry.shared_budget = budget;
        loops_[k]->thread = std::thread([this, &self = *loops_[k], params] { run_loop(self, params); });
    }
}

void loops_fetch::run_loop(loop& self, client_params params)
{
    {
        params.thread_safe = false; // the loop's own thread alone runs it and uses the client
        // The loops share one list: a loop whose share of a host is full sets aside at most one of
        // that host's URLs, and takes no more until it starts, leaving the rest to the other loops.
        // (0 would start every URL it takes at once, each then waiting in the loop's connection
        // pool behind a slow download while the other loops had room: a run could hoard a short
        // list in one loop and fetch nothing.)
        params.max_waiting_aside = 1;
        client api(self.context, std::move(params));
        fetch_feed take = [this, &self](const fetch_waker& wake) -> fetch_feed_answer {
            std::lock_guard hold(lock_);
            std::size_t number = 0;
            auto next = next_(wake, number);
            if (!next.item)
                return next;
            auto& item = *next.item;
            std::unique_ptr<fetch::locked_sink> locked;
            if (lock_sinks_ && item.sink)
            {
                locked = std::make_unique<fetch::locked_sink>(*item.sink, lock_);
                item.sink = locked.get();
            }
            self.under_way.emplace(self.taken++, std::make_pair(number, std::move(locked)));
            return next;
        };
        auto ended = [this, &self](std::size_t index, const fetch_outcome& outcome) {
            std::lock_guard hold(lock_);
            auto found = self.under_way.find(index);
            if (found == self.under_way.end())
                return;
            auto number = found->second.first;
            observe_(number, outcome);
            self.under_way.erase(found);
        };
        api.async_fetch_stream(take, ended, 0, asio::bind_cancellation_slot(self.stop.slot(), [](error_code) {}));
        self.context.run();
    }
    std::lock_guard hold(lock_);
    if (--running_ == 0)
        asio::post(context_, [this] {
            done_();
            work_.reset();
        });
}

loops_fetch::~loops_fetch()
{
    for (auto& each : loops_)
        asio::post(each->context, [&stop = each->stop] { stop.emit(asio::cancellation_type::terminal); });
    for (auto& each : loops_)
        if (each->thread.joinable())
            each->thread.join();
}

} // namespace fxrates::cli
