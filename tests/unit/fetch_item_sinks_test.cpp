// The note kept beside a partial download: read back as untrusted text.

#include "cli/fetch/item_sinks.hpp"

#include <doctest/doctest.h>

using namespace fxrates::cli::fetch;

TEST_CASE("a partial download's note reads back what was written, with one validator or both")
{
    auto both = parse_note(note_text({"https://x/a", "\"e\"", "Mon, 13 Apr 2026 10:00:00 GMT"}));
    REQUIRE(both);
    CHECK(both->url == "https://x/a");
    CHECK(both->etag == "\"e\"");
    auto etag_only = parse_note(note_text({"https://x/a", "\"e\"", ""}));
    REQUIRE(etag_only); // a server may send only an ETag...
    CHECK(etag_only->last_modified.empty());
    CHECK(parse_note(note_text({"https://x/a", "", "Mon, 13 Apr 2026 10:00:00 GMT"}))); // ...or only a date
    CHECK_FALSE(both->total); // notes of older runs have no size
    auto sized = parse_note(note_text({"https://x/a", "\"e\"", "", 1048576}));
    REQUIRE(sized);
    CHECK(sized->total == std::optional<std::uint64_t>(1048576));
    CHECK_FALSE(parse_note(R"({"url":"https://x/a","etag":"\"e\"","last_modified":"","total":-1})"));
}

TEST_CASE("a note without a validator, without a URL, or with one that could split a request is refused")
{
    CHECK_FALSE(parse_note(note_text({"https://x/a", "", ""})));
    CHECK_FALSE(parse_note(note_text({"", "\"e\"", ""})));
    CHECK_FALSE(parse_note(note_text({"https://x/a", "\"e\"\r\nX-Injected: 1", ""})));
    CHECK_FALSE(parse_note("not json"));
    CHECK_FALSE(parse_note("[1,2]"));
    CHECK_FALSE(parse_note(R"({"url":"https://x/a","etag":7,"last_modified":""})"));
}
