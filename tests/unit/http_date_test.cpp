#include "server/http_date.hpp"

#include <doctest/doctest.h>

#include <ctime>

using fxrates::detail::format_http_date;
using fxrates::detail::parse_http_date;

namespace {

// Sun, 06 Nov 1994 08:49:37 GMT, the example of RFC 9110 5.6.7.
constexpr std::time_t rfc_example = 784111777;

} // namespace

TEST_CASE("an HTTP date is written as IMF-fixdate and read back")
{
    CHECK(format_http_date(rfc_example) == "Sun, 06 Nov 1994 08:49:37 GMT");
    CHECK(parse_http_date(format_http_date(rfc_example)) == rfc_example);
    CHECK(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT") == 0);
}

TEST_CASE("the obsolete RFC 850 and asctime forms of an HTTP date are accepted, as RFC 9110 requires")
{
    CHECK(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == rfc_example);
    CHECK(parse_http_date("Sun Nov  6 08:49:37 1994") == rfc_example);
    // A two-digit year is in this century up to 69.
    CHECK(parse_http_date("Tuesday, 09-Apr-19 00:00:00 GMT") ==
          parse_http_date("Tue, 09 Apr 2019 00:00:00 GMT"));
}

TEST_CASE("text that is no HTTP date, or names no real instant, is not a date")
{
    for (const char* text :
         {"", "yesterday", "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 UTC",
          "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT",
          "Sun, 06 Nov 1994 08:49:37 GMT ", "1994-11-06T08:49:37Z",
          "Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT"})
    {
        CAPTURE(text);
        CHECK_FALSE(parse_http_date(text));
    }
}
