#include "cli/fetch/validators.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace fxrates::cli::fetch;

namespace {

validator_entry page()
{
    return {"site/index.html", "https://x/site/", "\"abc\"", "Mon, 13 Apr 2026 10:00:00 GMT", 2210, {}};
}

} // namespace

TEST_CASE("a store written and read back gives the same entries, one sorted JSON line each")
{
    validator_store store;
    CHECK(store.put(page()));
    CHECK(store.put({"a.png", "https://x/a.png", "", "", 7, std::string(64, 'f')}));
    auto text = store.serialize();
    CHECK(text == R"({"file":"a.png","url":"https://x/a.png","etag":null,"last_modified":null,"bytes":7,)"
                  R"("sha256":")" +
                      std::string(64, 'f') + "\"}\n" +
                      R"({"file":"site/index.html","url":"https://x/site/","etag":"\"abc\"",)"
                      R"("last_modified":"Mon, 13 Apr 2026 10:00:00 GMT","bytes":2210,"sha256":null})" +
                      "\n");
    std::size_t ignored = 99;
    auto back = validator_store::parse(text, ignored);
    CHECK(ignored == 0);
    REQUIRE(back.size() == 2);
    REQUIRE(back.find("site/index.html"));
    CHECK(*back.find("site/index.html") == page());
    CHECK(back.find("a.png")->bytes == 7);
    CHECK(back.find("missing") == nullptr);
}

TEST_CASE(
    "names with quotes, spaces and non-ASCII, URLs and ETags with quotes and backslashes survive escaping")
{
    validator_store store;
    validator_entry odd = page();
    odd.file = "we\"ird na me/\xC3\xA9t\xC3\xA9.txt";
    odd.url = "https://x/a?b=\"c\"";
    odd.etag = "W/\"x\\\"y\"";
    REQUIRE(store.put(odd));
    auto text = store.serialize();
    CHECK(text.find('\n') == text.size() - 1);
    std::size_t ignored = 0;
    auto back = validator_store::parse(text, ignored);
    CHECK(ignored == 0);
    REQUIRE(back.find(odd.file));
    CHECK(*back.find(odd.file) == odd);
}

TEST_CASE("corrupt lines are skipped and counted, and the good ones kept")
{
    std::string text =
        "not json\n"
        "\n"
        "[1,2]\n"
        R"({"file":"a","url":"u","etag":null,"last_modified":null})"
        "\n" // no bytes
        R"({"file":"a","url":"u","etag":1,"last_modified":null,"bytes":1})"
        "\n"
        R"({"file":"a","url":"u","etag":null,"last_modified":null,"bytes":-1})"
        "\n"
        R"({"file":"a","url":"u","etag":null,"last_modified":null,"bytes":1,"sha256":"zz"})"
        "\n"
        R"({"file":"good","url":"u","etag":"\"1\"","last_modified":null,"bytes":3,"extra":true})"
        "\n"
        R"({"file":"trunc)";
    std::size_t ignored = 0;
    auto store = validator_store::parse(text, ignored);
    CHECK(ignored == 7);
    REQUIRE(store.size() == 1);
    CHECK(store.find("good")->etag == "\"1\"");
}

TEST_CASE("hostile names and validators are refused: nothing outside the folder, no injected header")
{
    for (const char* name : {"../escape", "/etc/passwd", "a/../../b", "", ".fxrates-meta", "a\\b"})
    {
        CAPTURE(name);
        validator_entry entry = page();
        entry.file = name;
        validator_store store;
        CHECK_FALSE(store.put(entry));
        std::string line = std::string(R"({"file":")") + name +
                           R"(","url":"u","etag":null,"last_modified":null,)" + R"("bytes":1})" + "\n";
        std::size_t ignored = 0;
        CHECK(validator_store::parse(line, ignored).size() == 0);
        CHECK(ignored == 1);
    }
    std::size_t ignored = 0;
    auto store = validator_store::parse(
        R"({"file":"a","url":"u","etag":"\"x\"\r\nX-Evil: 1","last_modified":null,"bytes":1})"
        "\n"
        R"({"file":"b","url":"u","etag":null,"last_modified":"\u0000","bytes":1})",
        ignored);
    CHECK(ignored == 2);
    CHECK(store.size() == 0);

    validator_entry entry = page();
    entry.etag = "\"x\"\nX-Evil: 1";
    entry.last_modified = std::string(max_validator_length + 1, 'a');
    validator_store kept;
    REQUIRE(kept.put(entry));
    CHECK(kept.find(entry.file)->etag.empty());
    CHECK(kept.find(entry.file)->last_modified.empty());
}

TEST_CASE("a later line or a merged store replaces the entry of the same file")
{
    std::size_t ignored = 0;
    auto store =
        validator_store::parse(R"({"file":"a","url":"u","etag":"\"1\"","last_modified":null,"bytes":1})"
                               "\n"
                               R"({"file":"a","url":"u","etag":"\"2\"","last_modified":null,"bytes":2})"
                               "\n"
                               R"({"file":"b","url":"u","etag":"\"b\"","last_modified":null,"bytes":2})",
                               ignored);
    CHECK(store.find("a")->etag == "\"2\"");
    validator_store newer;
    newer.put({"a", "u", "\"3\"", "", 3, {}});
    newer.put({"c", "u", "\"c\"", "", 3, {}});
    store.merge(newer);
    CHECK(store.size() == 3);
    CHECK(store.find("a")->etag == "\"3\"");
    CHECK(store.find("b")->etag == "\"b\"");
    store.erase("b");
    store.erase("nothing");
    CHECK(store.size() == 2);
}

TEST_CASE("a request is conditional only for the same URL and an unchanged size")
{
    auto entry = page();
    auto fields = conditional_fields(entry, entry.url, entry.bytes);
    REQUIRE(fields.size() == 2);
    CHECK(fields[0] == std::pair<std::string, std::string>("If-None-Match", "\"abc\""));
    CHECK(fields[1] == std::pair<std::string, std::string>("If-Modified-Since", entry.last_modified));
    CHECK(conditional_fields(entry, "https://x/other", entry.bytes).empty());
    CHECK(conditional_fields(entry, entry.url, entry.bytes + 1).empty());
    entry.etag.clear();
    CHECK(conditional_fields(entry, entry.url, entry.bytes).size() == 1);
    entry.last_modified.clear();
    CHECK(conditional_fields(entry, entry.url, entry.bytes).empty());
}

TEST_CASE("lines appended as files are saved read back as the store, the later line of a file winning")
{
    std::string text;
    auto first = page();
    CHECK(append_entry_line(first, text));
    auto second = page();
    second.file = "a/other.html";
    second.etag = "\"bad\r\nX-Injected: 1\""; // cannot go back to a server: dropped, the entry kept
    CHECK(append_entry_line(second, text));
    auto newer = first;
    newer.etag = "\"new\"";
    CHECK(append_entry_line(newer, text));
    auto escaping = page();
    escaping.file = "../outside";
    CHECK_FALSE(append_entry_line(escaping, text)); // never named outside the folder
    std::size_t ignored = 0;
    auto store = validator_store::parse(text, ignored);
    CHECK(ignored == 0);
    CHECK(store.size() == 2);
    CHECK(store.find(first.file)->etag == "\"new\"");
    CHECK(store.find("a/other.html")->etag.empty());
    CHECK(store.find("../outside") == nullptr);
}

TEST_CASE("names fetch uses for its own files are internal, whatever folder they are in")
{
    CHECK(is_internal_name(".fxrates-meta"));
    CHECK(is_internal_name("a/.big.bin.fxrates-partial"));
    CHECK(is_internal_name(".big.bin.fxrates-partial.json"));
    CHECK(is_internal_name("sub/.x.fxrates-ab12cd"));
    CHECK_FALSE(is_internal_name("big.bin"));
    CHECK_FALSE(is_internal_name(".hidden"));
    CHECK_FALSE(is_internal_name("fxrates-partial"));
}
