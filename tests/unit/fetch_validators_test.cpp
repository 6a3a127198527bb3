#include "cli/fetch/validators.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>

using namespace fxrates::cli::fetch;

namespace {

validator_entry page()
{
    return {"site/index.html", "https://x/site/", "\"abc\"", "Mon, 13 Apr 2026 10:00:00 GMT", 2210, {}};
}

// A metadata file's text indexed as a run indexes it, and its entries read back as a run reads
// them: by offset, the name compared.
struct indexed_file
{
    explicit indexed_file(std::string contents) : text(std::move(contents))
    {
        for (std::size_t offset = 0; offset < text.size();)
        {
            auto end = text.find('\n', offset);
            auto line = std::string_view(text).substr(offset, end == std::string::npos ? std::string::npos : end - offset);
            if (!index.add(line, offset) && line.find_first_not_of(" \t\r") != std::string_view::npos)
                ++ignored;
            offset = end == std::string::npos ? text.size() : end + 1;
        }
    }

    std::optional<validator_entry> find(std::string_view file) const
    {
        auto offset = index.find(file);
        if (!offset)
            return std::nullopt;
        auto end = text.find('\n', *offset);
        auto entry = parse_entry_line(std::string_view(text).substr(*offset, end == std::string::npos ? std::string::npos : end - *offset));
        if (!entry || entry->file != file)
            return std::nullopt;
        return entry;
    }

    std::string text;
    validator_index index;
    std::size_t ignored = 0;
};

std::string lines_of(std::initializer_list<validator_entry> entries)
{
    std::string text;
    for (const auto& entry : entries)
        REQUIRE(append_entry_line(entry, text));
    return text;
}

} // namespace

TEST_CASE("entries appended and indexed read back the same, one JSON line each")
{
    indexed_file file(lines_of({{"a.png", "https://x/a.png", "", "", 7, std::string(64, 'f')}, page()}));
    CHECK(file.text == R"({"file":"a.png","url":"https://x/a.png","etag":null,"last_modified":null,"bytes":7,)"
                       R"("sha256":")" +
                           std::string(64, 'f') + "\"}\n" +
                           R"({"file":"site/index.html","url":"https://x/site/","etag":"\"abc\"",)"
                           R"("last_modified":"Mon, 13 Apr 2026 10:00:00 GMT","bytes":2210,"sha256":null})" +
                           "\n");
    CHECK(file.ignored == 0);
    REQUIRE(file.index.size() == 2);
    REQUIRE(file.find("site/index.html"));
    CHECK(*file.find("site/index.html") == page());
    CHECK(file.find("a.png")->bytes == 7);
    CHECK_FALSE(file.find("missing"));
}

TEST_CASE(
    "names with quotes, spaces and non-ASCII, URLs and ETags with quotes and backslashes survive escaping")
{
    validator_entry odd = page();
    odd.file = "we\"ird na me/\xC3\xA9t\xC3\xA9.txt";
    odd.url = "https://x/a?b=\"c\"";
    odd.etag = "W/\"x\\\"y\"";
    indexed_file file(lines_of({odd}));
    CHECK(file.text.find('\n') == file.text.size() - 1);
    CHECK(file.ignored == 0);
    REQUIRE(file.find(odd.file));
    CHECK(*file.find(odd.file) == odd);
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
    indexed_file file(text);
    CHECK(file.ignored == 7);
    REQUIRE(file.index.size() == 1);
    CHECK(file.find("good")->etag == "\"1\"");
}

TEST_CASE("hostile names and validators are refused: nothing outside the folder, no injected header")
{
    for (const char* name : {"../escape", "/etc/passwd", "a/../../b", "", ".fxrates-meta", "a\\b"})
    {
        CAPTURE(name);
        validator_entry entry = page();
        entry.file = name;
        std::string text;
        CHECK_FALSE(append_entry_line(entry, text));
        CHECK(text.empty());
        indexed_file file(std::string(R"({"file":")") + name + R"(","url":"u","etag":null,"last_modified":null,)" +
                          R"("bytes":1})" + "\n");
        CHECK(file.index.size() == 0);
        CHECK(file.ignored == 1);
    }
    indexed_file hostile(R"({"file":"a","url":"u","etag":"\"x\"\r\nX-Evil: 1","last_modified":null,"bytes":1})"
                         "\n"
                         R"({"file":"b","url":"u","etag":null,"last_modified":"\u0000","bytes":1})");
    CHECK(hostile.ignored == 2);
    CHECK(hostile.index.size() == 0);

    validator_entry entry = page();
    entry.etag = "\"x\"\nX-Evil: 1";
    entry.last_modified = std::string(max_validator_length + 1, 'a');
    indexed_file kept(lines_of({entry}));
    REQUIRE(kept.find(entry.file));
    CHECK(kept.find(entry.file)->etag.empty());
    CHECK(kept.find(entry.file)->last_modified.empty());
}

TEST_CASE("a later line replaces the entry of the same file; a name with another's hash is not found")
{
    indexed_file file(R"({"file":"a","url":"u","etag":"\"1\"","last_modified":null,"bytes":1})"
                      "\n"
                      R"({"file":"a","url":"u","etag":"\"2\"","last_modified":null,"bytes":2})"
                      "\n"
                      R"({"file":"b","url":"u","etag":"\"b\"","last_modified":null,"bytes":2})");
    CHECK(file.index.size() == 2);
    CHECK(file.find("a")->etag == "\"2\"");
    CHECK(file.find("b")->etag == "\"b\"");
    CHECK(file.index.find("a") == file.text.find(R"({"file":"a","url":"u","etag":"\"2\"")"));
    // The line read back names another file (as when two names share a hash): no entry.
    validator_index wrong;
    REQUIRE(wrong.add(R"({"file":"b","url":"u","etag":null,"last_modified":null,"bytes":1})", 0));
    file.index = wrong;
    CHECK_FALSE(file.find("b")); // offset 0 holds a's line, not b's
}

TEST_CASE("offsets past what the index holds are refused, not wrapped")
{
    validator_index index;
    auto line = R"({"file":"a","url":"u","etag":null,"last_modified":null,"bytes":1})";
    CHECK(index.add(line, validator_index::max_offset));
    CHECK(index.find("a") == validator_index::max_offset);
    CHECK_FALSE(index.add(line, validator_index::max_offset + 1));
    CHECK(index.find("a") == validator_index::max_offset);
}

TEST_CASE("a request is conditional only for the same URL, an unchanged size and an unchanged mtime")
{
    auto entry = page();
    entry.mtime_ns = 1'700'000'000'123'456'789;
    const auto when = entry.mtime_ns;
    auto fields = conditional_fields(entry, entry.url, entry.bytes, when);
    REQUIRE(fields.size() == 2);
    CHECK(fields[0] == std::pair<std::string, std::string>("If-None-Match", "\"abc\""));
    CHECK(fields[1] == std::pair<std::string, std::string>("If-Modified-Since", entry.last_modified));
    CHECK(conditional_fields(entry, "https://x/other", entry.bytes, when).empty());
    CHECK(conditional_fields(entry, entry.url, entry.bytes + 1, when).empty());
    // Edited in place, same size: a 304 would keep the edit.
    CHECK(conditional_fields(entry, entry.url, entry.bytes, when + 1).empty());
    // An entry of an older run, without an mtime: the size alone.
    entry.mtime_ns = 0;
    CHECK(conditional_fields(entry, entry.url, entry.bytes, when + 1).size() == 2);
    entry.etag.clear();
    CHECK(conditional_fields(entry, entry.url, entry.bytes, when).size() == 1);
    entry.last_modified.clear();
    CHECK(conditional_fields(entry, entry.url, entry.bytes, when).empty());
}

TEST_CASE("an entry's mtime survives its line; a line without one reads as unknown, a bad one is refused")
{
    auto entry = page();
    entry.mtime_ns = 1'700'000'000'123'456'789;
    indexed_file file(lines_of({entry}));
    REQUIRE(file.find(entry.file));
    CHECK(file.find(entry.file)->mtime_ns == entry.mtime_ns);
    CHECK(file.text.find(R"("mtime_ns":1700000000123456789)") != std::string::npos);
    CHECK(parse_entry_line(R"({"file":"a","url":"u","etag":null,"last_modified":null,"bytes":1})")->mtime_ns == 0);
    CHECK_FALSE(parse_entry_line(R"({"file":"a","url":"u","etag":null,"last_modified":null,"bytes":1,"mtime_ns":"x"})"));
}

TEST_CASE("lines appended as files are saved read back, the later line of a file winning")
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
    indexed_file file(text);
    CHECK(file.ignored == 0);
    CHECK(file.index.size() == 2);
    CHECK(file.find(first.file)->etag == "\"new\"");
    CHECK(file.find("a/other.html")->etag.empty());
    CHECK_FALSE(file.find("../outside"));
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
