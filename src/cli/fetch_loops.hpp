#pragma once

// `fxrates fetch --loops N`: the list fetched by N event loops, each on a thread of its own with a
// client of its own (connections, TLS sessions, pacing), for when one loop saturates a core: many
// small TLS transfers, or one fast large body. Kept apart from fetch_command.cpp, which only
// branches here: the items, the outputs and the exit code stay fetch_command's.

#include "cli/fetch/loop_shares.hpp"

#include <fxrates/client_params.hpp>
#include <fxrates/fetch_outcome.hpp>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

namespace fxrates::cli {

using fetch::loop_shares;

/**
 * A streamed fetch on several loops, presented to `context`'s thread as one: the loops take items
 * from `next` (which numbers them) as their connections free up, and `observe` hears of each as it
 * ends; `done` runs on `context` once every loop has ended. A cancellation emitted on `cancel` (on
 * `context`'s thread) stops every loop.
 *
 * `next` and `observe` run on the loops' threads, one at a time under one lock, so they may share
 * unsynchronised state; `next` may answer `pending` (no line yet, or the caller's ordering window
 * is full: one window for all loops), and then calls the waker it was given once it may have an
 * item. With `lock_sinks`, every sink call takes that lock too (for sinks that share state with
 * `observe`, such as the ordered stdout); a sink of its own (a file) needs not.
 */
class loops_fetch
{
public:
    /// The next item, its run-wide number in `number`.
    using source = std::function<fetch_feed_answer(const fetch_waker& wake, std::size_t& number)>;

    loops_fetch(boost::asio::io_context& context, const loop_shares& shares, source next, fetch_observer observe,
                bool lock_sinks, boost::asio::cancellation_slot cancel, std::function<void()> done);
    /// Stops the loops and waits for their threads.
    ~loops_fetch();

    loops_fetch(const loops_fetch&) = delete;
    loops_fetch& operator=(const loops_fetch&) = delete;

private:
    struct loop;

    void run_loop(loop& self, client_params params);

    std::mutex lock_;
    source next_;
    fetch_observer observe_;
    bool lock_sinks_;
    boost::asio::io_context& context_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::function<void()> done_;
    std::size_t running_;
    std::vector<std::unique_ptr<loop>> loops_;
};

} // namespace fxrates::cli
