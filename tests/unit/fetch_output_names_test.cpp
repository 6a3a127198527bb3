#include "cli/fetch/output_names.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace fxrates::cli::fetch;

namespace {

list_item url_item(std::string url, std::size_t line = 1)
{
    list_item item;
    item.line = line;
    item.url = std::move(url);
    return item;
}

name_pattern pattern_of(std::string_view text)
{
    std::string why;
    auto pattern = name_pattern::parse(text, why);
    REQUIRE_MESSAGE(pattern, why);
    return *pattern;
}

std::string name_of(const name_pattern& pattern, const list_item& item, std::size_t index = 0)
{
    auto result = build_name(pattern, item, index);
    REQUIRE_MESSAGE(result.ok(), result.error);
    return result.name;
}

std::string error_of(const name_pattern& pattern, const list_item& item, std::size_t index = 0)
{
    auto result = build_name(pattern, item, index);
    CHECK_FALSE(result.ok());
    CHECK(result.name.empty());
    return result.error;
}

} // namespace

TEST_CASE("the default name is the URL's last path segment, decoded, or the 1-based index without one")
{
    name_pattern pattern;
    CHECK(pattern.text() == "{name}");
    CHECK(name_of(pattern, url_item("https://x/a/rates.json?base=EUR#top")) == "rates.json");
    CHECK(name_of(pattern, url_item("https://x/a/Z%C3%BCrich%20x.csv")) == "Z\xC3\xBCrich x.csv");
    CHECK(name_of(pattern, url_item("https://x/"), 6) == "7");
    CHECK(name_of(pattern, url_item("https://x"), 0) == "1");
    CHECK(name_of(pattern, url_item("https://x/dir/"), 2) == "3");
}

TEST_CASE("a name pattern combines text with index, name, host, path and value")
{
    list_item item = url_item("https://api.example.com:8443/v1/latest/Z%C3%BCrich?x=1", 4);
    item.value = "Z\xC3\xBCrich";
    CHECK(name_of(pattern_of("{host}-{index}-{name}.json"), item, 9) ==
          "api.example.com-10-Z\xC3\xBCrich.json");
    CHECK(name_of(pattern_of("{path}"), item) == "v1/latest/Z\xC3\xBCrich");
    CHECK(name_of(pattern_of("by-value/{value}.json"), item) == "by-value/Z\xC3\xBCrich.json");
    CHECK(name_of(pattern_of("{path}"), url_item("https://x/docs/"), 1) == "docs/2");
    CHECK(name_of(pattern_of("{path}"), url_item("https://x"), 1) == "2");
    CHECK(name_of(pattern_of("a}b"), item) == "a}b");
}

TEST_CASE("a name pattern with an unknown or unclosed placeholder is refused before anything is fetched")
{
    std::string why;
    CHECK_FALSE(name_pattern::parse("{id}.json", why));
    CHECK(why ==
          "--name \"{id}.json\" has the unknown placeholder {id}; use {index}, {name}, {host}, {path} or "
          "{value}");
    CHECK_FALSE(name_pattern::parse("{name", why));
    CHECK(why == "--name \"{name\" has a { without its }");
    CHECK_FALSE(name_pattern::parse("{}", why));
    CHECK_FALSE(name_pattern::parse("{NAME}", why));
    CHECK_FALSE(name_pattern::parse("", why));
    CHECK_FALSE(name_pattern::parse("/etc/{name}", why));
    CHECK(why == "--name \"/etc/{name}\" is absolute; names are relative to the -o folder");
}

TEST_CASE("{value} without a template value is an error, not an empty name")
{
    CHECK(error_of(pattern_of("{value}.json"), url_item("https://x/a", 3)) ==
          "line 3: --name uses {value}, but \"https://x/a\" comes from no template value");
}

TEST_CASE("encoded traversal in a URL never makes a name outside the output folder")
{
    name_pattern by_name;
    auto path = pattern_of("{path}");
    CHECK(error_of(by_name, url_item("https://x/..%2F..%2Fetc", 2)) ==
          "line 2: cannot name a file for \"https://x/..%2F..%2Fetc\": {name} is \"../../etc\", which "
          "contains a "
          "'/'");
    CHECK(error_of(path, url_item("https://x/..%2F..%2Fetc", 2)) ==
          "line 2: cannot name a file for \"https://x/..%2F..%2Fetc\": {path} has the segment \"../../etc\", "
          "whose '/' was encoded (%2F): not a folder of the URL");
    CHECK(error_of(path, url_item("https://x/docs/a%2Fb")).find("{path} has the segment \"a/b\"") != std::string::npos);
    CHECK(error_of(by_name, url_item("https://x/%2e%2e")).find("\"..\" component") != std::string::npos);
    CHECK(error_of(by_name, url_item("https://x/%2E")).find("\".\" component") != std::string::npos);
    CHECK(error_of(path, url_item("https://x/a/%2e%2e/%2e%2e/b")).find("\"..\" component") !=
          std::string::npos);
    CHECK(error_of(path, url_item("https://x/foo/%2e/bar")).find("\".\" component") != std::string::npos);
    CHECK(error_of(path, url_item("https://x//etc/passwd")).find("it is absolute") != std::string::npos);
    CHECK(error_of(path, url_item("https://x/a//b")).find("empty component") != std::string::npos);
    CHECK(error_of(by_name, url_item("https://x/a%5Cb")).find("backslash") != std::string::npos);
}

TEST_CASE("control characters and invalid UTF-8 from a URL are refused, shown escaped")
{
    name_pattern by_name;
    CHECK(error_of(by_name, url_item("https://x/%00", 5)) ==
          "line 5: the file name \"\\x00\" is refused: it contains the control character \\x00");
    CHECK(error_of(by_name, url_item("https://x/a%0Ab")).find("control character \\n") != std::string::npos);
    CHECK(error_of(by_name, url_item("https://x/a%1B%5B31m")).find("control character \\x1b") !=
          std::string::npos);
    CHECK(error_of(by_name, url_item("https://x/a%7F")).find("control character \\x7f") != std::string::npos);
    CHECK(error_of(by_name, url_item("https://x/a%C2%85")).find("control character \\u0085") !=
          std::string::npos);
    // A bidi override shows "photo\u202egnp.exe" as "photoexe.png"; zero-width and BOM hide too.
    CHECK(error_of(by_name, url_item("https://x/photo%E2%80%AEgnp.exe")) ==
          "line 1: the file name \"photo\\u202egnp.exe\" is refused: it contains the invisible character \\u202e, "
          "which makes a name read other than it is");
    CHECK(error_of(by_name, url_item("https://x/a%E2%80%8Bb")).find("invisible character \\u200b") != std::string::npos);
    CHECK(error_of(by_name, url_item("https://x/%EF%BB%BFa")).find("invisible character \\ufeff") != std::string::npos);
    CHECK(name_of(by_name, url_item("https://x/Z%C3%BCrich-%E6%9D%B1%E4%BA%AC")) == "Z\xC3\xBCrich-\xE6\x9D\xB1\xE4\xBA\xAC");
    std::string invalid = error_of(by_name, url_item("https://x/a%FF%FE"));
    CHECK(invalid == "line 1: the file name \"a\\xff\\xfe\" is refused: it is not UTF-8 text");
    CHECK(error_of(by_name, url_item("https://x/%C0%AE%C0%AE")).find("not UTF-8") != std::string::npos);
}

TEST_CASE("the FILE of a list line is the name as written, and confined all the same")
{
    list_item item = url_item("https://x/a.json", 8);
    item.file = "out/a%20b.json";
    CHECK(name_of(name_pattern{}, item) == "out/a%20b.json");
    for (const std::string& hostile :
         std::initializer_list<std::string>{"/etc/passwd", "a/../../b", "../x", "foo/./bar", "a//b", "a/",
                                            "a\\b", std::string("a\0b", 3), "a\nb"})
    {
        CAPTURE(hostile);
        item.file = hostile;
        CHECK(error_of(name_pattern{}, item).rfind("line 8: the file name ", 0) == 0);
    }
}

TEST_CASE("a confined name fits the file system's limits")
{
    CHECK_FALSE(check_confined(std::string(255, 'a')));
    CHECK(check_confined(std::string(256, 'a')) == "a component is longer than 255 bytes");
    std::string deep;
    while (deep.size() < 4100)
        deep += "abcdefghi/";
    deep += "x";
    CHECK(check_confined(deep) == "it is longer than 4096 bytes");
    CHECK(check_confined("") == "it is empty");
    CHECK(check_confined("/abs") == "it is absolute; names must stay inside the output folder");
    CHECK_FALSE(check_confined("a/b/c.json"));
    CHECK_FALSE(check_confined(".hidden"));
    CHECK_FALSE(check_confined("...")); // a plain name, not a dot component
    CHECK_FALSE(check_confined("Z\xC3\xBCrich/\xE6\x9D\xB1\xE4\xBA\xAC"));
}

TEST_CASE("two items mapping to one name: the second is refused, naming the line of the first")
{
    name_registry names;
    CHECK_FALSE(names.claim("rates.json", 3));
    CHECK(names.claim("rates.json", 9) == "line 9: the file name \"rates.json\" is already taken by line 3");
    CHECK_FALSE(names.claim("other.json", 10));
    CHECK(names.size() == 2);
}

TEST_CASE("a name that is another item's folder, or needs another item's file as a folder, is refused")
{
    name_registry names;
    CHECK_FALSE(names.claim("a/b/c", 1));
    CHECK(names.claim("a", 2) == "line 2: the file name \"a\" is already a folder for the file of line 1");
    CHECK(names.claim("a/b", 3) ==
          "line 3: the file name \"a/b\" is already a folder for the file of line 1");
    CHECK_FALSE(names.claim("a/b/d", 4));
    CHECK_FALSE(names.claim("x", 5));
    CHECK(names.claim("x/y", 6) ==
          "line 6: the file name \"x/y\" needs \"x\" as a folder, but it is the file of "
          "line 5");
    CHECK(names.size() == 3);
}

TEST_CASE("a hundred thousand names are told apart, and a repeat still names the line of the first")
{
    name_registry names;
    for (std::size_t i = 1; i <= 100'000; ++i)
        REQUIRE_FALSE(names.claim("d" + std::to_string(i % 97) + "/f" + std::to_string(i), i));
    CHECK(names.size() == 100'000);
    CHECK(names.claim("d" + std::to_string(54321 % 97) + "/f54321", 100'001) ==
          "line 100001: the file name \"d" + std::to_string(54321 % 97) + "/f54321\" is already taken by line 54321");
    CHECK(names.claim("d5", 100'002)->find("is already a folder") != std::string::npos);
}
