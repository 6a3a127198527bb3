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
#include <optional>

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
        std::optional<typename Clock::time_point> turn{}; // with a shared pace: the head's turn
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

    // With a shared pace, only the head of the queue holds turns (one per token), taken when it
    // becomes the head: the clients sharing the pace are served in the order their heads ask, a
    // pause voids at most the head's turns, and a cancelled head loses only its own.
    void acquire_turn(unsigned tokens, handler_type handler)
    {
        if (queue.empty())
        {
            auto now = Clock::now();
            auto turn = take_turns(tokens, now);
            if (turn <= now)
            {
                complete(std::move(handler), {});
                return;
            }
            enqueue({next_id++, tokens, std::move(handler), turn});
            return;
        }
        enqueue({next_id++, tokens, std::move(handler), std::nullopt});
    }

    typename Clock::time_point take_turns(unsigned tokens, typename Clock::time_point now)
    {
        auto turn = now;
        for (unsigned k = 0; k < tokens; ++k)
            turn = pace->take_turn(origin, now);
        return turn;
    }

    // The head's turn, taken now if it has none, or taken again if it falls in a pause that has
    // not ended (another client sharing the pace was told to pause after it was taken).
    typename Clock::time_point head_turn(typename Clock::time_point now)
    {
        auto& head = queue.front();
        if (!head.turn || pace->paused_over(origin, *head.turn, now))
            head.turn = take_turns(head.tokens, now);
        return *head.turn;
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
        timer.expires_at(pace ? head_turn(Clock::now()) : bucket.ready_at(queue.front().tokens, Clock::now()));
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
        auto due = [&](const waiter& head) {
            return pace ? head_turn(now) <= now : bucket.try_acquire(head.tokens, now).granted;
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
            pace->pause_until(origin, until); // the head's turn, if in the pause, is taken again
        else
            bucket.pause_until(until);
        if (!queue.empty())
            arm();
    }

    void set_rate(double rate, double burst)
    {
        if (pace)
        {
            token_bucket<Clock> check(rate, burst, Clock::now()); // refuses what the constructor refuses
            pace->limit_to(origin, rate, burst, Clock::now()); // the head keeps its turn
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
