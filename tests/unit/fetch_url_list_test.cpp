#include "cli/fetch/url_list.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace fxrates::cli::fetch;

TEST_CASE("a list line is a URL, or a URL and a file name, with white space and CRLF ignored")
{
    auto one = parse_list_line("  https://example.com/a?b=1 \r", 3);
    REQUIRE(one.kind == line_kind::item);
    CHECK(one.item.line == 3);
    CHECK(one.item.url == "https://example.com/a?b=1");
    CHECK(one.item.file.empty());
    CHECK(one.item.value.empty());

    auto pair = parse_list_line("http://example.com:8080/x\t \tout/x.json", 4);
    REQUIRE(pair.kind == line_kind::item);
    CHECK(pair.item.url == "http://example.com:8080/x");
    CHECK(pair.item.file == "out/x.json");

    CHECK(parse_list_line("HTTPS://[::1]:443/", 1).kind == line_kind::item);
    CHECK(parse_list_line("https://x/page#section", 1).kind == line_kind::item);
}

TEST_CASE("blank lines and comments in a list are skipped")
{
    for (const char* text : {"", "   ", "\r", "\t\r\n", "# a comment", "   # indented https://x/"})
        CHECK(parse_list_line(text, 1).kind == line_kind::skip);
}

TEST_CASE("a list line that is not an absolute http or https URL with a host is refused, naming line and URL")
{
    auto bad = parse_list_line("htp://x", 7);
    REQUIRE(bad.kind == line_kind::error);
    CHECK(bad.error == "line 7: \"htp://x\" is not an http:// or https:// URL (its scheme is htp)");

    for (const char* text : {"example.com/x", "/relative", "ftp://example.com/", "file:///etc/passwd",
                             "https://", "https:///path", "http:x", "mailto:a@b", "javascript:alert(1)"})
    {
        CAPTURE(std::string(text));
        auto parsed = parse_list_line(text, 2);
        CHECK(parsed.kind == line_kind::error);
        CHECK(parsed.error.rfind("line 2: ", 0) == 0);
    }
    // Boost.URL 1.81 wraps a port above 65535 to another port: refused, as are ports that are no number.
    for (const char* text : {"http://127.0.0.1:112537/x", "http://127.0.0.1:0/", "http://127.0.0.1:47001:abc",
                             "http://127.0.0.1:4x/"})
    {
        CAPTURE(std::string(text));
        auto parsed = parse_list_line(text, 4);
        CHECK(parsed.kind == line_kind::error);
    }
    CHECK(parse_list_line("http://127.0.0.1:8080/", 4).kind == line_kind::item);
    CHECK(parse_list_line("http://127.0.0.1:/", 4).kind == line_kind::item);
    // Credentials would go unsent, and into messages and reports: refused.
    CHECK(parse_list_line("https://user:secret@example.com/x", 3).error ==
          "line 3: \"https://user:secret@example.com/x\" is not an http:// or https:// URL (it has a user name or "
          "password (user:pass@), which fxrates does not send)");
    CHECK(
        parse_list_line("https://ex\xC3\xA4mple.com/", 5).error ==
        "line 5: \"https://ex\xC3\xA4mple.com/\" is not an http:// or https:// URL (characters outside ASCII "
        "must be percent-encoded)");
}

TEST_CASE("a list line with a third field is refused: it is a URL with a space in it")
{
    auto parsed = parse_list_line("https://x/a b c", 9);
    REQUIRE(parsed.kind == line_kind::error);
    CHECK(parsed.error == "line 9: has 3 fields; a line is URL or URL FILE (a space inside a URL must be "
                          "written as %20)");
}

TEST_CASE("control characters inside a list line are refused and shown escaped")
{
    auto nul = parse_list_line(std::string("https://x/\0a", 12), 1);
    REQUIRE(nul.kind == line_kind::error);
    CHECK(nul.error == "line 1: contains the control character \\x00; a list has one URL (and optionally a "
                       "FILE) a line");
    CHECK(parse_list_line("https://x/a\rb", 2).kind == line_kind::error);
    CHECK(parse_list_line("https://x/\x1b[31m", 3).kind == line_kind::error);
    CHECK(parse_list_line("https://x/\x7f", 4).kind == line_kind::error);
}

TEST_CASE("the URL in an error message is escaped, so a hostile list cannot drive the terminal")
{
    auto parsed = parse_list_line("htp://x/\xE2\x80\xAE"
                                  "evil",
                                  1);
    REQUIRE(parsed.kind == line_kind::error);
    CHECK(parsed.error.find("\xE2\x80\xAE") == std::string::npos);
}

TEST_CASE("a template value is percent-encoded for whatever part of the URL it lands in")
{
    CHECK(percent_encode("Z\xC3\xBCrich & Co/x") == "Z%C3%BCrich%20%26%20Co%2Fx");
    CHECK(percent_encode("a-b.c_d~e09AZ") == "a-b.c_d~e09AZ");
    CHECK(percent_encode("?#[]@!$'()*+,;=%") == "%3F%23%5B%5D%40%21%24%27%28%29%2A%2B%2C%3B%3D%25");
    CHECK(percent_encode("../..") == "..%2F..");
    CHECK(percent_encode("..") == "%2E%2E"); // a path segment of its own: not removed with its parent
    CHECK(percent_encode(".") == "%2E");
    CHECK(percent_encode("...") == "...");
    CHECK(fill_template("https://api.example/{}/v?q={}", "Z\xC3\xBCrich & Co/x") ==
          "https://api.example/Z%C3%BCrich%20%26%20Co%2Fx/v?q=Z%C3%BCrich%20%26%20Co%2Fx");
    CHECK(fill_template("https://x/{}", "") == "https://x/");
    CHECK(fill_template("https://x/{x}", "v") == "https://x/{x}");
}

TEST_CASE("a template needs a {} and must make an http or https URL")
{
    CHECK_FALSE(check_template("https://api.example/rates?base={}"));
    CHECK_FALSE(check_template("https://{}.example.com/"));
    CHECK(check_template("https://api.example/rates") ==
          "the template \"https://api.example/rates\" has no {} to put "
          "each value in");
    CHECK(check_template("ftp://x/{}") ==
          "the template \"ftp://x/{}\" does not make an http:// or https:// URL (its scheme is ftp)");
    CHECK(check_template("{}"));
    CHECK(check_template("https://x/{} y"));
}

TEST_CASE("a values file line is trimmed, keeps inner spaces and skips blanks and comments")
{
    auto value = parse_value_line("  New York \r", 2);
    REQUIRE(value.kind == line_kind::item);
    CHECK(value.item.value == "New York");
    CHECK(value.item.line == 2);
    CHECK(value.item.url.empty());
    CHECK(parse_value_line("", 1).kind == line_kind::skip);
    CHECK(parse_value_line(" # EUR", 1).kind == line_kind::skip);
    CHECK(parse_value_line("a\tb", 3).error ==
          "line 3: contains the control character \\t; a values file has one "
          "value a line");
    CHECK(parse_value_line("\xFF\xFE", 4).error == "line 4: \"\\xff\\xfe\" is not UTF-8 text");
}

TEST_CASE("a template item fills the URL from the value and checks the result")
{
    auto item = template_item("https://x/{}", parse_value_line("Z\xC3\xBCrich", 5));
    REQUIRE(item.kind == line_kind::item);
    CHECK(item.item.url == "https://x/Z%C3%BCrich");
    CHECK(item.item.value == "Z\xC3\xBCrich");
    CHECK(item.item.line == 5);
    CHECK(template_item("https://x/{}", parse_value_line("# no", 1)).kind == line_kind::skip);
    auto bad = template_item("https://x/{}", parse_value_line("\x01", 6));
    CHECK(bad.kind == line_kind::error);
    CHECK(bad.error.rfind("line 6: ", 0) == 0);
}
