#include "server/static_files.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using fxrates::detail::content_type_for;
using fxrates::detail::path_components;

TEST_CASE("a request path splits into percent-decoded components, empty ones skipped")
{
    using list = std::vector<std::string>;
    CHECK(path_components("/") == list{});
    CHECK(path_components("/a/b.txt") == list{"a", "b.txt"});
    CHECK(path_components("/a//b/") == list{"a", "b"});
    CHECK(path_components("/my%20file.txt") == list{"my file.txt"});
    CHECK(path_components("/%41%62") == list{"Ab"});
    CHECK(path_components("/.hidden/..x/x..") == list{".hidden", "..x", "x.."});
}

TEST_CASE("a path that could leave the root, or is not a plain path, has no components")
{
    for (const char* refused : {"/..", "/../etc/passwd", "/a/../../b", "/%2e%2e/x", "/%2E%2e/x", "/.%2e/x",
                                "/./a", "/a/%2e", "/..%2fetc", "/a%2F..%2F..%2Fb", "/a%5c..", "/a\\b",
                                "/a%00b", "/%", "/%4", "/%zz", "a/b", "", "http://host/a", "*"})
    {
        CAPTURE(refused);
        CHECK_FALSE(path_components(refused));
    }
    CHECK_FALSE(path_components(std::string_view("/a\0b", 4))); // a NUL inside the path
}

TEST_CASE("the Content-Type follows the extension, case-insensitively, and is octet-stream otherwise")
{
    CHECK(content_type_for("index.html") == "text/html; charset=utf-8");
    CHECK(content_type_for("style.CSS") == "text/css; charset=utf-8");
    CHECK(content_type_for("app.js") == "text/javascript; charset=utf-8");
    CHECK(content_type_for("data.json") == "application/json");
    CHECK(content_type_for("notes.txt") == "text/plain; charset=utf-8");
    CHECK(content_type_for("a.png") == "image/png");
    CHECK(content_type_for("a.jpg") == "image/jpeg");
    CHECK(content_type_for("a.JPEG") == "image/jpeg");
    CHECK(content_type_for("a.gif") == "image/gif");
    CHECK(content_type_for("a.svg") == "image/svg+xml");
    CHECK(content_type_for("rates.csv") == "text/csv; charset=utf-8");
    CHECK(content_type_for("paper.pdf") == "application/pdf");
    CHECK(content_type_for("archive.tar.gz") == "application/octet-stream");
    CHECK(content_type_for("Makefile") == "application/octet-stream");
    CHECK(content_type_for("html") == "application/octet-stream");
}
