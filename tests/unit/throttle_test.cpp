// The async throttle on virtual time: a manual clock, timers that expire when the test moves it.

#include "client/throttle_impl.hpp"
#include <fxrates/shared_pace.hpp>

#include "support/manual_clock.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>

#include <doctest/doctest.h>

#include <optional>
#include <vector>

namespace asio = boost::asio;
using fxrates::test::manual_clock;
using fxrates::test::manual_wait_traits;
using namespace std::chrono_literals;

template class fxrates::basic_throttle<manual_clock, manual_wait_traits>;
using virtual_throttle = fxrates::basic_throttle<manual_clock, manual_wait_traits>;

namespace {

struct grant
{
    int id;
    manual_clock::duration at;
    fxrates::error_code ec;
};

struct fixture
{
    fixture() { manual_clock::reset(); }

    // Moves virtual time forward in steps, running whatever became due at each.
    void advance(manual_clock::duration total, manual_clock::duration step = 10ms)
    {
        for (manual_clock::duration done{}; done < total; done += step)
        {
            manual_clock::advance(step);
            context.poll();
        }
    }

    auto recorder(int id)
    {
        return [this, id](fxrates::error_code ec) {
            grants.push_back({id, manual_clock::now().time_since_epoch(), ec});
        };
    }

    asio::io_context context;
    std::vector<grant> grants;
};

} // namespace

TEST_CASE_FIXTURE(fixture, "at 10 per second, 50 waiters are served in order at 0.1, 0.2, ... 5.0 s, one wake-up each")
{
    virtual_throttle throttle(context.get_executor(), 10);
    for (int i = 0; i < 50; ++i)
        throttle.async_acquire(1, recorder(i));
    context.poll();
    CHECK(grants.empty());
    advance(5s);
    REQUIRE(grants.size() == 50);
    for (int i = 0; i < 50; ++i)
    {
        CAPTURE(i);
        CHECK(grants[i].id == i);
        CHECK_FALSE(grants[i].ec);
        CHECK(grants[i].at == 100ms * (i + 1));
    }
    CHECK(throttle.wakeups() == 50);
}

TEST_CASE_FIXTURE(fixture, "a token that is there is granted, but never inside async_acquire")
{
    virtual_throttle throttle(context.get_executor(), 10);
    manual_clock::advance(1s);
    throttle.async_acquire(1, recorder(0));
    CHECK(grants.empty()); // posted, not called inline
    context.poll();
    REQUIRE(grants.size() == 1);
    CHECK_FALSE(grants[0].ec);
    CHECK(throttle.wakeups() == 0); // no timer needed
}

TEST_CASE_FIXTURE(fixture, "a cancelled waiter takes no token and leaves the queue")
{
    virtual_throttle throttle(context.get_executor(), 10);
    asio::cancellation_signal cancel;
    throttle.async_acquire(1, recorder(0));
    throttle.async_acquire(1, asio::bind_cancellation_slot(cancel.slot(), recorder(1)));
    throttle.async_acquire(1, recorder(2));
    context.poll();
    CHECK(throttle.waiting() == 3);

    cancel.emit(asio::cancellation_type::terminal);
    context.poll();
    REQUIRE(grants.size() == 1);
    CHECK(grants[0].id == 1);
    CHECK(grants[0].ec == asio::error::operation_aborted);
    CHECK(throttle.waiting() == 2);

    advance(200ms);
    REQUIRE(grants.size() == 3);
    CHECK(grants[1].id == 0);
    CHECK(grants[1].at == 100ms);
    CHECK(grants[2].id == 2);
    CHECK(grants[2].at == 200ms); // the token the cancelled waiter would have taken
}

TEST_CASE_FIXTURE(fixture, "cancelling the head of the queue lets the next waiter take its place")
{
    virtual_throttle throttle(context.get_executor(), 10, 10);
    asio::cancellation_signal cancel;
    throttle.async_acquire(1, asio::bind_cancellation_slot(cancel.slot(), recorder(0)));
    throttle.async_acquire(1, recorder(1));
    context.poll();
    advance(50ms);
    cancel.emit(asio::cancellation_type::partial);
    advance(50ms);
    REQUIRE(grants.size() == 2);
    CHECK(grants[0].ec == asio::error::operation_aborted);
    CHECK(grants[1].id == 1);
    CHECK_FALSE(grants[1].ec);
    CHECK(grants[1].at == 100ms);
}

TEST_CASE_FIXTURE(fixture, "cancelling a head that waits for many tokens re-arms the timer for the next waiter")
{
    virtual_throttle throttle(context.get_executor(), 10, 10);
    asio::cancellation_signal cancel;
    throttle.async_acquire(5, asio::bind_cancellation_slot(cancel.slot(), recorder(0))); // due at 500 ms
    throttle.async_acquire(1, recorder(1));                                               // due at 100 ms alone
    context.poll();
    advance(50ms);
    cancel.emit(asio::cancellation_type::terminal);
    advance(60ms);
    REQUIRE(grants.size() == 2);
    CHECK(grants[0].ec == asio::error::operation_aborted);
    CHECK(grants[1].id == 1);
    CHECK_FALSE(grants[1].ec);
    CHECK(grants[1].at == 100ms); // not 500 ms, when the cancelled head's timer would have fired
}

TEST_CASE_FIXTURE(fixture, "a Retry-After pause holds every waiter together, then serves them in order")
{
    virtual_throttle throttle(context.get_executor(), 10, 10);
    for (int i = 0; i < 3; ++i)
        throttle.async_acquire(1, recorder(i));
    context.poll();
    throttle.pause_until(manual_clock::now() + 2s);
    advance(1990ms);
    CHECK(grants.empty());
    advance(210ms);
    REQUIRE(grants.size() == 3);
    CHECK(grants[0].at == 2000ms);
    CHECK(grants[1].at == 2100ms);
    CHECK(grants[2].at == 2200ms);
}

TEST_CASE_FIXTURE(fixture, "closing completes pending waiters with operation_aborted, and later ones too")
{
    std::optional<virtual_throttle> throttle(std::in_place, context.get_executor(), 1.0);
    throttle->async_acquire(1, recorder(0));
    throttle->async_acquire(1, recorder(1));
    context.poll();
    throttle->close();
    throttle->async_acquire(1, recorder(2));
    context.poll();
    REQUIRE(grants.size() == 3);
    for (const auto& g : grants)
        CHECK(g.ec == asio::error::operation_aborted);
    throttle.reset();
    context.poll();
}

TEST_CASE_FIXTURE(fixture, "a request for more tokens than the burst fails instead of waiting for ever")
{
    virtual_throttle throttle(context.get_executor(), 10, 2);
    throttle.async_acquire(3, recorder(0));
    context.poll();
    REQUIRE(grants.size() == 1);
    CHECK(grants[0].ec == asio::error::invalid_argument);
}

TEST_CASE_FIXTURE(fixture, "n tokens at a time are granted when all n are there")
{
    virtual_throttle throttle(context.get_executor(), 10, 10);
    throttle.async_acquire(5, recorder(0));
    throttle.async_acquire(1, recorder(1));
    context.poll();
    advance(600ms);
    REQUIRE(grants.size() == 2);
    CHECK(grants[0].at == 500ms);
    CHECK(grants[1].at == 600ms);
}

TEST_CASE_FIXTURE(fixture, "throttles on one shared pace take turns together: the rate holds for all of them, in the order asked")
{
    // Two clients' throttles for one origin at 10 a second: 20 a second between them without the pace.
    auto pace = std::make_shared<fxrates::shared_pace>(10, 1);
    virtual_throttle first(context.get_executor(), pace, "https://a:443");
    virtual_throttle second(context.get_executor(), pace, "https://a:443");
    virtual_throttle other_origin(context.get_executor(), pace, "https://b:443");
    for (int i = 0; i < 3; ++i)
    {
        first.async_acquire(1, recorder(2 * i));
        second.async_acquire(1, recorder(2 * i + 1));
    }
    other_origin.async_acquire(1, recorder(100));
    advance(700ms);
    REQUIRE(grants.size() == 7);
    std::vector<int> order;
    for (const auto& g : grants)
    {
        CHECK_FALSE(g.ec);
        if (g.id != 100)
        {
            CHECK(g.at == 100ms * (g.id + 1));
            order.push_back(g.id);
        }
        else
            CHECK(g.at == 100ms); // an origin of its own: its own bucket
    }
    CHECK(order == std::vector<int>{0, 1, 2, 3, 4, 5});
}

TEST_CASE_FIXTURE(fixture, "on a shared pace, a Retry-After one client got holds the other clients too")
{
    auto pace = std::make_shared<fxrates::shared_pace>(10, 1);
    virtual_throttle first(context.get_executor(), pace, "https://a:443");
    virtual_throttle second(context.get_executor(), pace, "https://a:443");
    first.async_acquire(1, recorder(0));
    second.async_acquire(1, recorder(1));
    first.pause_until(manual_clock::now() + 2s);
    advance(1990ms);
    CHECK(grants.empty());
    advance(300ms);
    // The second client's turn, taken before the pause at 200 ms, is void: it takes the next one.
    REQUIRE(grants.size() == 2);
    CHECK(grants[0].id == 0);
    CHECK(grants[0].at == 2000ms);
    CHECK(grants[1].id == 1);
    CHECK(grants[1].at == 2100ms);
}

TEST_CASE_FIXTURE(fixture, "on a shared pace, a limit the server announced slows every client, and never raises the pace")
{
    auto pace = std::make_shared<fxrates::shared_pace>(10, 1);
    virtual_throttle first(context.get_executor(), pace, "https://a:443");
    virtual_throttle second(context.get_executor(), pace, "https://a:443");
    first.set_rate(2, 1); // 2 a second, learned by one client
    second.async_acquire(1, recorder(0));
    second.async_acquire(1, recorder(1));
    advance(1100ms);
    REQUIRE(grants.size() == 2);
    CHECK(grants[0].at == 500ms);
    CHECK(grants[1].at == 1000ms);
    second.set_rate(50, 1); // faster than the pace's own: held to 10 a second
    second.async_acquire(1, recorder(2));
    second.async_acquire(1, recorder(3));
    context.restart(); // it ran out of work, and stopped
    advance(300ms);
    REQUIRE(grants.size() == 4);
    CHECK(grants[2].at == 1200ms);
    CHECK(grants[3].at == 1300ms);
}

TEST_CASE("a turn taken and handed over goes to the next request at once, and only to one")
{
    using time_point = manual_clock::time_point;
    fxrates::shared_pace pace(10, 1);
    time_point start{};
    CHECK(pace.reserve("o", start) == start + 100ms);
    pace.hand_over("o", start + 100ms);
    CHECK(pace.reserve("o", start + 100ms) == start + 200ms); // the one who handed it over never takes it back
    CHECK(pace.take_turn("o", start + 100ms) == start + 100ms); // the handed-over turn, at once
    CHECK(pace.take_turn("o", start + 100ms) == start + 300ms); // only once
}

TEST_CASE("a handed-over turn is void after a pause that came since, or a second after it was handed over")
{
    using time_point = manual_clock::time_point;
    fxrates::shared_pace pace(10, 1);
    time_point start{};
    pace.hand_over("o", start);
    pace.pause_until("o", start + 2s);
    CHECK(pace.take_turn("o", start + 10ms) == start + 2s); // not during the pause
    pace.hand_over("o", start + 3s);
    CHECK(pace.reserve("o", start + 4500ms) == start + 4500ms); // the token the idle spell left
    CHECK(pace.take_turn("o", start + 4500ms) == start + 4600ms); // its request never came: no free turn
}

TEST_CASE_FIXTURE(fixture, "on a shared pace, a pause costs the queued waiters only the pause, never the turns after it")
{
    auto pace = std::make_shared<fxrates::shared_pace>(10, 1);
    virtual_throttle throttle(context.get_executor(), pace, "https://a:443");
    for (int i = 0; i < 10; ++i)
        throttle.async_acquire(1, recorder(i));
    context.poll();
    throttle.pause_until(manual_clock::now() + 500ms);
    advance(1500ms);
    REQUIRE(grants.size() == 10);
    for (int i = 0; i < 10; ++i)
    {
        CAPTURE(i);
        CHECK(grants[i].id == i);
        CHECK(grants[i].at == 500ms + 100ms * i);
    }
}

TEST_CASE_FIXTURE(fixture, "on a shared pace, a limit learned twice keeps the turns already taken, and the next follow them")
{
    auto pace = std::make_shared<fxrates::shared_pace>(10, 1);
    virtual_throttle first(context.get_executor(), pace, "https://a:443");
    virtual_throttle second(context.get_executor(), pace, "https://a:443");
    first.async_acquire(1, recorder(0)); // its turn: 100 ms
    first.set_rate(5, 1);                // 200 ms apart from now on
    second.set_rate(5, 1);               // the same limit, learned by another client: nothing changes
    second.async_acquire(1, recorder(1));
    advance(400ms);
    REQUIRE(grants.size() == 2);
    CHECK(grants[0].at == 100ms);
    CHECK(grants[1].at == 300ms);
}
