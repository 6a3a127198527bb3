#include "server/resource.hpp"

#include <doctest/doctest.h>

#include <string>

using fxrates::detail::byte_range;
using fxrates::detail::content_range;
using fxrates::detail::etag_list_matches;
using fxrates::detail::parse_single_range;
using fxrates::detail::request_conditions;
using fxrates::detail::select_representation;
using fxrates::detail::selection_kind;
using fxrates::detail::strong_etag;

namespace {

constexpr std::string_view etag = "\"64-abc\"";
constexpr std::time_t modified = 1'000'000'000;                  // Sun, 09 Sep 2001 01:46:40 GMT
constexpr std::time_t now = 2'000'000'000;
constexpr std::string_view modified_text = "Sun, 09 Sep 2001 01:46:40 GMT";
constexpr std::string_view later_text = "Sun, 09 Sep 2001 01:46:41 GMT";
constexpr std::string_view earlier_text = "Sun, 09 Sep 2001 01:46:39 GMT";

request_conditions get() { return {"GET", {}, {}, {}, {}, now, {}, {}}; }

std::optional<std::pair<std::uint64_t, std::uint64_t>> range_of(std::string_view field, std::uint64_t size)
{
    auto range = parse_single_range(field, size);
    if (!range)
        return std::nullopt;
    return std::pair{range->first, range->length};
}

} // namespace

TEST_CASE("If-None-Match matches by weak comparison, in a list or as *")
{
    CHECK(etag_list_matches("\"64-abc\"", etag));
    CHECK(etag_list_matches("W/\"64-abc\"", etag));
    CHECK(etag_list_matches("\"x\", \"64-abc\"", etag));
    CHECK(etag_list_matches("\"a,b\" ,W/\"64-abc\"", etag)); // a comma inside a tag is not a separator
    CHECK(etag_list_matches("*", etag));
    CHECK_FALSE(etag_list_matches("\"64-abd\"", etag));
    CHECK_FALSE(etag_list_matches("64-abc", etag)); // unquoted: not an entity tag
    CHECK_FALSE(etag_list_matches("", etag));
}

TEST_CASE("If-Match compares strongly and fails the request with 412 before anything else is looked at")
{
    CHECK(etag_list_matches("\"x\", \"64-abc\"", etag, true));
    CHECK(etag_list_matches("*", etag, true));
    CHECK_FALSE(etag_list_matches("W/\"64-abc\"", etag, true));
    CHECK_FALSE(etag_list_matches("\"64-abc\"", "W/\"64-abc\"", true));

    auto request = get();
    request.if_match = "\"64-abd\"";
    request.if_none_match = etag; // would be 304 alone
    request.range = "bytes=0-9";
    CHECK(select_representation(request, etag, modified, 100).kind == selection_kind::precondition_failed);
    request.if_match = "W/\"64-abc\"";
    CHECK(select_representation(request, etag, modified, 100).kind == selection_kind::precondition_failed);
    request.if_match = etag;
    request.if_none_match = {};
    CHECK(select_representation(request, etag, modified, 100).kind == selection_kind::partial);
    request.if_unmodified_since = earlier_text; // If-Match present: not looked at
    CHECK(select_representation(request, etag, modified, 100).kind == selection_kind::partial);
}

TEST_CASE("If-Unmodified-Since fails the request with 412 when the file changed after it; a bad date is ignored")
{
    auto request = get();
    request.if_unmodified_since = earlier_text;
    CHECK(select_representation(request, etag, modified, 100).kind == selection_kind::precondition_failed);
    request.if_unmodified_since = modified_text;
    CHECK(select_representation(request, etag, modified, 100).kind == selection_kind::full);
    request.if_unmodified_since = "yesterday";
    CHECK(select_representation(request, etag, modified, 100).kind == selection_kind::full);
}

TEST_CASE("a matching If-None-Match gets 304 and decides alone, whatever If-Modified-Since says")
{
    auto request = get();
    request.if_none_match = etag;
    CHECK(select_representation(request, etag, modified, 100).kind == selection_kind::not_modified);
    request.method = "HEAD";
    CHECK(select_representation(request, etag, modified, 100).kind == selection_kind::not_modified);

    request.method = "GET";
    request.if_none_match = "\"other\"";
    request.if_modified_since = later_text; // would be 304 alone
    CHECK(select_representation(request, etag, modified, 100).kind == selection_kind::full);
}

TEST_CASE(
    "If-Modified-Since gets 304 unless the resource changed after it, and a future or bad date is ignored")
{
    auto request = get();
    request.if_modified_since = modified_text;
    CHECK(select_representation(request, etag, modified, 100).kind == selection_kind::not_modified);
    request.if_modified_since = later_text;
    CHECK(select_representation(request, etag, modified, 100).kind == selection_kind::not_modified);
    request.if_modified_since = earlier_text;
    CHECK(select_representation(request, etag, modified, 100).kind == selection_kind::full);
    request.if_modified_since = "not a date";
    CHECK(select_representation(request, etag, modified, 100).kind == selection_kind::full);
    request.if_modified_since = later_text;
    request.now = modified - 10; // the date is in the server's future
    CHECK(select_representation(request, etag, modified, 100).kind == selection_kind::full);
}

TEST_CASE("the three forms of a byte range select the right bytes, the last byte clamped to the size")
{
    using range = std::pair<std::uint64_t, std::uint64_t>;
    CHECK(range_of("bytes=0-9", 100) == range{0, 10});
    CHECK(range_of("bytes=90-", 100) == range{90, 10});
    CHECK(range_of("bytes=-10", 100) == range{90, 10});
    CHECK(range_of("bytes=-1000", 100) == range{0, 100});
    CHECK(range_of("bytes=50-1000", 100) == range{50, 50});
    CHECK(range_of("BYTES = 1-1", 100) == range{1, 1});
}

TEST_CASE("a range past the end cannot be satisfied, and a malformed field or several ranges are ignored")
{
    using range = std::pair<std::uint64_t, std::uint64_t>;
    CHECK(range_of("bytes=100-", 100) == range{0, 0});
    CHECK(range_of("bytes=100-200", 100) == range{0, 0});
    CHECK(range_of("bytes=-0", 100) == range{0, 0});
    CHECK(range_of("bytes=0-", 0) == range{0, 0});
    for (const char* ignored : {"bytes=5-1", "bytes=a-b", "bytes=", "bytes=-", "items=0-1", "bytes=0-1,5-6",
                                "0-1", "bytes=99999999999999999999999-"})
    {
        CAPTURE(ignored);
        CHECK_FALSE(range_of(ignored, 100));
    }
}

TEST_CASE("Range gets 206, or 416, for GET only, and HEAD or an ignored field gets the whole")
{
    auto request = get();
    request.range = "bytes=10-19";
    auto chosen = select_representation(request, etag, modified, 100);
    CHECK(chosen.kind == selection_kind::partial);
    CHECK(chosen.range.first == 10);
    CHECK(chosen.range.length == 10);
    CHECK(content_range(chosen.range, 100) == "bytes 10-19/100");

    request.range = "bytes=200-";
    CHECK(select_representation(request, etag, modified, 100).kind == selection_kind::unsatisfiable);

    request.method = "HEAD";
    request.range = "bytes=10-19";
    chosen = select_representation(request, etag, modified, 100);
    CHECK(chosen.kind == selection_kind::full);
    CHECK(chosen.range.length == 100);

    request.method = "GET";
    request.range = "bytes=0-1,5-6";
    CHECK(select_representation(request, etag, modified, 100).kind == selection_kind::full);
}

TEST_CASE("If-Range applies the range only for the current entity tag (strongly) or exact date")
{
    auto request = get();
    request.range = "bytes=0-9";
    request.if_range = etag;
    CHECK(select_representation(request, etag, modified, 100).kind == selection_kind::partial);
    request.if_range = "W/\"64-abc\""; // a weak tag never matches If-Range
    CHECK(select_representation(request, etag, modified, 100).kind == selection_kind::full);
    request.if_range = "\"64-old\"";
    CHECK(select_representation(request, etag, modified, 100).kind == selection_kind::full);
    request.if_range = modified_text;
    CHECK(select_representation(request, etag, modified, 100).kind == selection_kind::partial);
    request.if_range = later_text;
    CHECK(select_representation(request, etag, modified, 100).kind == selection_kind::full);
}

TEST_CASE("a strong entity tag is quoted, and differs with the size or the time")
{
    CHECK(strong_etag(255, 16) == "\"ff-10\"");
    CHECK(strong_etag(~std::uint64_t{0}, ~std::uint64_t{0}) == "\"ffffffffffffffff-ffffffffffffffff\"");
    CHECK(strong_etag(1, 2) != strong_etag(2, 2));
    CHECK(strong_etag(1, 2) != strong_etag(1, 3));
}
