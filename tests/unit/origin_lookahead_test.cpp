// Which item of a streamed fetch starts next: an origin at its limit parks its items, holding no
// worker, while later items of other origins start.

#include "client/origin_lookahead.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

using fxrates::detail::origin;
using fxrates::detail::origin_lookahead;

namespace {

origin host(const std::string& name)
{
    return origin{"https", name, 443};
}

// The numbers of what `offer` started at once, offering items 0, 1, 2, ... of `hosts` in turn.
std::vector<std::size_t> offer_all(origin_lookahead<std::string>& lookahead, const std::vector<std::string>& hosts)
{
    std::vector<std::size_t> started;
    for (std::size_t number = 0; number < hosts.size(); ++number)
        if (auto ready = lookahead.offer(host(hosts[number]), number, hosts[number]))
            started.push_back(ready->number);
    return started;
}

} // namespace

TEST_CASE("items of a full origin are parked, and the items after them for other origins start")
{
    origin_lookahead<std::string> lookahead(2, 100);
    auto started = offer_all(lookahead, {"slow", "slow", "slow", "slow", "fast", "fast", "slow", "fast"});
    CHECK(started == std::vector<std::size_t>{0, 1, 4, 5});
    CHECK(lookahead.parked() == 4);
    // Nothing parked may start while the slow host has its two under way.
    CHECK_FALSE(lookahead.take_parked());
    // A fast item ending frees the fast host: its parked item 7 starts.
    CHECK(lookahead.ended(host("fast")));
    auto next = lookahead.take_parked();
    REQUIRE(next);
    CHECK(next->number == 7);
    CHECK(next->item == "fast");
    CHECK_FALSE(lookahead.take_parked());
}

TEST_CASE("a parked origin's items start in input order, and a later item of it never goes ahead of them")
{
    origin_lookahead<std::string> lookahead(1, 100);
    CHECK(offer_all(lookahead, {"a", "a", "a"}) == std::vector<std::size_t>{0});
    CHECK(lookahead.ended(host("a")));
    // The origin has room now, but item 3 is offered before the parked ones are taken: it waits behind them.
    CHECK_FALSE(lookahead.offer(host("a"), 3, "a"));
    std::vector<std::size_t> order;
    for (int round = 0; round < 3; ++round)
    {
        auto next = lookahead.take_parked();
        REQUIRE(next);
        order.push_back(next->number);
        CHECK_FALSE(lookahead.take_parked()); // one at a time: the origin's limit is 1
        lookahead.ended(host("a"));
    }
    CHECK(order == std::vector<std::size_t>{1, 2, 3});
    CHECK(lookahead.parked() == 0);
}

TEST_CASE("of several origins with room, the oldest parked item starts first")
{
    origin_lookahead<std::string> lookahead(1, 100);
    CHECK(offer_all(lookahead, {"a", "b", "b", "a"}) == std::vector<std::size_t>{0, 1});
    CHECK(lookahead.ended(host("a")));
    CHECK(lookahead.ended(host("b")));
    auto first = lookahead.take_parked();
    auto second = lookahead.take_parked();
    REQUIRE(first);
    REQUIRE(second);
    CHECK(first->number == 2);
    CHECK(second->number == 3);
    CHECK(lookahead.parked() == 0);
}

TEST_CASE("the most items parked bounds how far ahead the list is read")
{
    origin_lookahead<std::string> lookahead(1, 3);
    CHECK(offer_all(lookahead, {"a", "a", "a", "a"}) == std::vector<std::size_t>{0});
    CHECK(lookahead.parked() == 3);
    CHECK_FALSE(lookahead.may_offer());
    CHECK(lookahead.ended(host("a")));
    CHECK(lookahead.take_parked()->number == 1);
    CHECK(lookahead.may_offer());
}

TEST_CASE("an origin's end says whether a parked item may start, and an origin with nothing left is forgotten")
{
    origin_lookahead<std::string> lookahead(2, 100);
    CHECK(offer_all(lookahead, {"a", "a", "a"}) == std::vector<std::size_t>{0, 1});
    CHECK(lookahead.ended(host("a"))); // item 2 may start
    CHECK(lookahead.take_parked()->number == 2);
    CHECK_FALSE(lookahead.ended(host("a"))); // nothing parked
    CHECK_FALSE(lookahead.ended(host("a")));
    CHECK_FALSE(lookahead.ended(host("a"))); // forgotten: an end of nothing under way changes nothing
    // Forgotten means empty: the origin's full limit is free again.
    CHECK(offer_all(lookahead, {"a", "a"}) == std::vector<std::size_t>{0, 1});
}

TEST_CASE("a cancelled run takes every parked item out, oldest first")
{
    origin_lookahead<std::string> lookahead(1, 100);
    offer_all(lookahead, {"a", "b", "a", "b", "a"});
    auto all = lookahead.take_all();
    std::vector<std::size_t> numbers;
    for (const auto& each : all)
        numbers.push_back(each.number);
    CHECK(numbers == std::vector<std::size_t>{2, 3, 4});
    CHECK(lookahead.parked() == 0);
    CHECK_FALSE(lookahead.take_parked());
}

TEST_CASE("with no room to park, every item offered starts, and nothing waits aside")
{
    origin_lookahead<std::string> lookahead(1, 0);
    CHECK(offer_all(lookahead, {"a", "a", "a"}) == std::vector<std::size_t>{0, 1, 2});
    CHECK(lookahead.may_offer());
    CHECK(lookahead.parked() == 0);
    CHECK_FALSE(lookahead.take_parked());
}
