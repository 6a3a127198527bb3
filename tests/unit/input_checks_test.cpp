#include "cli/input_checks.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <limits>

using fxrates::cli::check_number;
using fxrates::cli::number_range;
using fxrates::cli::split_list;
using fxrates::cli::to_duration;

TEST_CASE("a number option takes finite numbers within its range, and names the range otherwise")
{
    number_range timeout{.min = 0.001, .max = 3600};
    CHECK(check_number("0.001", timeout).empty());
    CHECK(check_number("3600", timeout).empty());
    CHECK(check_number("1e1", timeout).empty());
    for (const char* bad : {"nan", "NaN", "-nan", "inf", "-inf", "infinity", "1e300", "1e-300", "0", "3600.5", "",
                            "12abc", "0x10p0x"})
        CHECK(check_number(bad, timeout) == "'" + std::string(bad) + "' is not a number from 0.001 to 3600");
    number_range rate{.min = 0, .max = 1e6, .min_excluded = true, .what = "a positive number of requests per second"};
    CHECK(check_number("0.0001", rate).empty());
    CHECK(check_number("0", rate) == "'0' is not a positive number of requests per second up to 1000000");
    CHECK(check_number("nan", rate) == "'nan' is not a positive number of requests per second up to 1000000");
}

TEST_CASE("seconds become a duration only when the conversion cannot overflow")
{
    using namespace std::chrono_literals;
    CHECK(to_duration(1.5) == 1500ms);
    CHECK(to_duration(0) == std::chrono::steady_clock::duration::zero());
    CHECK(to_duration(3600) == 1h);
    CHECK_FALSE(to_duration(std::nan("")));
    CHECK_FALSE(to_duration(std::numeric_limits<double>::infinity()));
    CHECK_FALSE(to_duration(-std::numeric_limits<double>::infinity()));
    CHECK_FALSE(to_duration(1e300));
    CHECK_FALSE(to_duration(9.3e9)); // just past the ~292 years a steady_clock duration holds
    CHECK(to_duration(9.2e9));
}

TEST_CASE("a comma-separated list with an empty element or no element is refused, naming it")
{
    std::string why;
    CHECK(split_list("USD,EUR", why) == std::vector<std::string>{"USD", "EUR"});
    CHECK(split_list("USD", why) == std::vector<std::string>{"USD"});
    CHECK_FALSE(split_list("USD,,EUR", why));
    CHECK(why == "'USD,,EUR' has an empty element; separate the items with single commas");
    CHECK_FALSE(split_list("USD,", why));
    CHECK(why == "'USD,' has an empty element; separate the items with single commas");
    CHECK_FALSE(split_list(",", why));
    CHECK(why == "',': the list is empty");
    CHECK_FALSE(split_list("", why));
    CHECK(why == "'': the list is empty");
}
