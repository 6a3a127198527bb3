#pragma once

// The implementation of fxrates::basic_throttle, as a template so that tests can instantiate it on
// a manual clock; the library instantiates it for std::chrono::steady_clock in throttle.cpp.

#include <fxrates/throttle.hpp>
#include <fxrates/shared_pace.hpp>
#include <fxrates/token_bucket.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/post.hpp>

#include <list>

namespace fxrates {

template <class Clock, class WaitTraits>
struct basic_throttle<Clock, WaitTraits>::impl : std::enable_shared_from_this<impl>
{
    using handler_type = boost::asio::any_completion_handler<void(error_code)>;

    struct waiter
    {
        std::uint64_t id;
        unsigned tokens;
        handler_type handler;
        typename Clock::time_point turn{}; // with a shared pace: the turn it holds
    };

    impl(boost::asio::any_io_executor ex, double rate, double burst)
        : executor(std::move(ex)), bucket(rate, burst, Clock::now()), timer(executor)
    {
    }

    // Turns come from `pace`, shared with other throttles; the own bucket is unused.
    impl(boost::asio::any_io_executor ex, std::shared_ptr<shared_pace> pace, std::string origin)
        : executor(std::move(ex)), bucket(pace->rate(), 0, Clock::now()), timer(executor),
          pace(std::move(pace)), origin(std::move(origin))
    {
    }

    void acquire(unsigned tokens, handler_type handler)
    {
        if (closed)
        {
            complete(std::move(handler), boost::asio::error::operation_aborted);
            return;
        }
        if (pace)
        {
            acquire_turn(tokens, std::move(handler));
            return;
        }
        if (!bucket.can_ever_grant(tokens))
        {
            complete(std::move(handler), boost::asio::error::invalid_argument);
            return;
        }
        // Nobody ahead: take the tokens at once if they are there (completion is still posted).
        if (queue.empty() && bucket.try_acquire(tokens, Clock::now()).granted)
        {
            complete(std::move(handler), {});
            return;
        }
        std::uint64_t id = next_id++;
        enqueue({id, tokens, std::move(handler)});
    }

    void enqueue(waiter entry)
    {
        auto slot = boost::asio::get_associated_cancellation_slot(entry.handler);
        if (slot.is_connected())
        {
            slot.assign([weak = this->weak_from_this(), id = entry.id](boost::asio::cancellation_type) {
                if (auto self = weak.lock())
                    self->cancel(id);
            });
        }
        queue.push_back(std::move(entry));
        if (queue.size() == 1)
            arm();
    }

    // With a shared pace: each waiter takes its turns as it comes (one per token), so that the
    // clients sharing the pace are served in the order they asked; a cancelled waiter's turns
    // are lost, as a request that went would have used them.
    void acquire_turn(unsigned tokens, handler_type handler)
    {
        auto now = Clock::now();
        typename Clock::time_point turn = now;
        for (unsigned k = 0; k < tokens; ++k)
            turn = pace->reserve(origin, now);
        if (queue.empty() && turn <= now)
        {
            complete(std::move(handler), {});
            return;
        }
        enqueue({next_id++, tokens, std::move(handler), turn});
    }

    // A pause or a new rate: the turns held are given up and taken again, in queue order.
    void take_turns_again()
    {
        auto now = Clock::now();
        for (auto& entry : queue)
            for (unsigned k = 0; k < entry.tokens; ++k)
                entry.turn = pace->reserve(origin, now);
        arm();
    }

    // Sets the one timer for the moment the head of the queue can be served.
    void arm()
    {
        ++generation;
        if (queue.empty())
        {
            timer.cancel();
            return;
        }
        timer.expires_at(pace ? queue.front().turn : bucket.ready_at(queue.front().tokens, Clock::now()));
        timer.async_wait([weak = this->weak_from_this(), armed = generation](const error_code& ec) {
            auto self = weak.lock();
            if (!self || ec || armed != self->generation)
                return; // re-armed or closed meanwhile
            ++self->wakeups;
            self->serve();
        });
    }

    void serve()
    {
        auto now = Clock::now();
        using time_point = typename Clock::time_point;
        if (pace && !queue.empty() && queue.front().turn < pace->paused_until<time_point>(origin))
        {
            take_turns_again(); // another client sharing the pace was told to pause
            return;
        }
        auto due = [&](const waiter& head) {
            return pace ? head.turn <= now : bucket.try_acquire(head.tokens, now).granted;
        };
        while (!queue.empty() && due(queue.front()))
        {
            auto handler = std::move(queue.front().handler);
            queue.pop_front();
            complete(std::move(handler), {});
        }
        arm();
    }

    void cancel(std::uint64_t id)
    {
        for (auto it = queue.begin(); it != queue.end(); ++it)
        {
            if (it->id != id)
                continue;
            bool was_head = it == queue.begin();
            auto handler = std::move(it->handler);
            queue.erase(it);
            // Called from the slot's own handler: clearing the slot now would destroy it mid-call.
            complete(std::move(handler), boost::asio::error::operation_aborted, false);
            if (was_head)
                arm(); // the next waiter may be served sooner, or now
            return;
        }
    }

    void pause_until(typename Clock::time_point until)
    {
        if (pace)
        {
            pace->pause_until(origin, until);
            take_turns_again();
            return;
        }
        bucket.pause_until(until);
        if (!queue.empty())
            arm();
    }

    void set_rate(double rate, double burst)
    {
        if (pace)
        {
            token_bucket<Clock> check(rate, burst, Clock::now()); // refuses what the constructor refuses
            pace->limit_to(origin, rate, burst, Clock::now());
            take_turns_again();
            return;
        }
        bucket = token_bucket<Clock>(rate, burst, Clock::now());
        if (!queue.empty())
            arm();
    }

    void close()
    {
        closed = true;
        ++generation;
        timer.cancel();
        auto pending = std::move(queue);
        queue.clear();
        for (auto& entry : pending)
            complete(std::move(entry.handler), boost::asio::error::operation_aborted);
    }

    // Posted, never inline; the handler then runs on its own associated executor.
    void complete(handler_type handler, error_code ec, bool clear_slot = true)
    {
        if (clear_slot)
            boost::asio::get_associated_cancellation_slot(handler).clear();
        boost::asio::post(executor, boost::asio::append(std::move(handler), ec));
    }

    boost::asio::any_io_executor executor;
    token_bucket<Clock> bucket; // without a shared pace
    boost::asio::basic_waitable_timer<Clock, WaitTraits, boost::asio::any_io_executor> timer;
    // A list, not a deque: erasing from the middle must not move-assign the handlers, which in
    // Boost 1.81 recurses for ever (any_completion_handler's move assignment copies itself).
    std::list<waiter> queue;
    std::shared_ptr<shared_pace> pace; // or null
    std::string origin;                // its key in `pace`
    std::uint64_t next_id = 0;
    std::uint64_t generation = 0;
    std::uint64_t wakeups = 0;
    bool closed = false;
};

template <class Clock, class WaitTraits>
basic_throttle<Clock, WaitTraits>::basic_throttle(boost::asio::any_io_executor executor, double rate, double burst)
    : impl_(std::make_shared<impl>(std::move(executor), rate, burst))
{
}

template <class Clock, class WaitTraits>
basic_throttle<Clock, WaitTraits>::basic_throttle(boost::asio::any_io_executor executor,
                                                  std::shared_ptr<shared_pace> pace, std::string origin)
    : impl_(std::make_shared<impl>(std::move(executor), std::move(pace), std::move(origin)))
{
}

template <class Clock, class WaitTraits>
basic_throttle<Clock, WaitTraits>::~basic_throttle()
{
    impl_->close();
}

template <class Clock, class WaitTraits>
void basic_throttle<Clock, WaitTraits>::acquire_impl(unsigned n,
                                                     boost::asio::any_completion_handler<void(error_code)> handler)
{
    impl_->acquire(n, std::move(handler));
}

template <class Clock, class WaitTraits>
void basic_throttle<Clock, WaitTraits>::pause_until(time_point until)
{
    impl_->pause_until(until);
}

template <class Clock, class WaitTraits>
void basic_throttle<Clock, WaitTraits>::set_rate(double rate, double burst)
{
    impl_->set_rate(rate, burst);
}

template <class Clock, class WaitTraits>
void basic_throttle<Clock, WaitTraits>::close()
{
    impl_->close();
}

template <class Clock, class WaitTraits>
std::size_t basic_throttle<Clock, WaitTraits>::waiting() const noexcept
{
    return impl_->queue.size();
}

template <class Clock, class WaitTraits>
std::uint64_t basic_throttle<Clock, WaitTraits>::wakeups() const noexcept
{
    return impl_->wakeups;
}

template <class Clock, class WaitTraits>
boost::asio::any_io_executor basic_throttle<Clock, WaitTraits>::get_executor() const noexcept
{
    return impl_->executor;
}

} // namespace fxrates
