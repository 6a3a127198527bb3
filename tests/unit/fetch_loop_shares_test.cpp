// How --loops N shares the run's limits out: together, the loops never exceed what one would.

#include "cli/fetch/loop_shares.hpp"

#include <fxrates/shared_pace.hpp>

#include <chrono>

#include <doctest/doctest.h>

using fxrates::client_params;
using fxrates::cli::fetch::share_limits;

TEST_CASE("the loops' shares of connections add up to the run's limits")
{
    client_params params;
    params.max_connections = 101;
    params.max_connections_per_origin = 7;
    auto shares = share_limits(params, 2);
    REQUIRE(shares.loops == 2);
    REQUIRE(shares.params.size() == 2);
    CHECK(shares.params[0].max_connections + shares.params[1].max_connections == 101);
    CHECK(shares.params[0].max_connections_per_origin == 4);
    CHECK(shares.params[1].max_connections_per_origin == 3);
}

TEST_CASE("never more loops than a host may have connections, nor fewer than one")
{
    client_params params;
    params.max_connections = 100;
    params.max_connections_per_origin = 2;
    CHECK(share_limits(params, 8).loops == 2); // each loop needs one of each host's connections
    CHECK(share_limits(params, 0).loops == 1);
    params.max_connections_per_origin = 6;
    params.max_connections = 3;
    CHECK(share_limits(params, 4).loops == 3);
}

TEST_CASE("the loops keep one request rate per host together: one pace, its turns taken by every loop")
{
    client_params params;
    params.max_connections = 10;
    params.max_connections_per_origin = 6;
    params.rate = 10;
    params.burst = 3;
    auto shares = share_limits(params, 2);
    REQUIRE(shares.params[0].shared_pace);
    CHECK(shares.params[1].shared_pace == shares.params[0].shared_pace);
    CHECK(shares.params[0].shared_pace->rate() == 10);
    // Turns alternate between the loops' requests at the run's rate, not at half of it each.
    using time_point = std::chrono::steady_clock::time_point;
    time_point start{};
    auto& pace = *shares.params[0].shared_pace;
    auto first = pace.reserve("https://h:443", start);
    auto second = shares.params[1].shared_pace->reserve("https://h:443", start);
    CHECK(second - first == std::chrono::milliseconds(100));
    params.rate = 0; // no limit stays no limit
    CHECK_FALSE(share_limits(params, 2).params[1].shared_pace);
    CHECK(share_limits(params, 2).params[1].rate == 0);
    params.rate = 10; // one loop keeps the rate itself
    CHECK_FALSE(share_limits(params, 1).params[0].shared_pace);
}
