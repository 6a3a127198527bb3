#include "server/demo_site.hpp"
#include "server/pattern.hpp"

#include <doctest/doctest.h>

#include <regex>
#include <set>
#include <string>
#include <vector>

using fxrates::detail::demo_site;
using fxrates::detail::fill_pattern;

namespace {

std::string whole(const fxrates::detail::resource& found)
{
    std::string text(static_cast<std::size_t>(found.body->size()), '\0');
    boost::system::error_code ec;
    CHECK(found.body->read(0, {text.data(), text.size()}, ec) == text.size());
    CHECK_FALSE(ec);
    return text;
}

} // namespace

TEST_CASE("the /bytes pattern is the same read in any pieces, from any offset")
{
    std::vector<char> all(1000);
    fill_pattern(0, all);
    for (std::uint64_t offset : {1u, 7u, 8u, 13u, 500u})
    {
        std::vector<char> piece(100);
        fill_pattern(offset, piece);
        CHECK(std::equal(piece.begin(), piece.end(), all.begin() + static_cast<std::ptrdiff_t>(offset)));
    }
    // Not a short cycle: distinct 8-byte words.
    std::set<std::string> words;
    for (std::size_t i = 0; i + 8 <= all.size(); i += 8)
        words.insert(std::string(all.data() + i, 8));
    CHECK(words.size() == all.size() / 8);
}

TEST_CASE("/bytes/N serves N bytes up to 16 GiB, with an entity tag of its own, and other N get 400")
{
    demo_site site;
    auto found = site.find("/bytes/1000");
    REQUIRE(found.found);
    CHECK(found.found->body->size() == 1000);
    CHECK(found.found->content_type == "application/octet-stream");
    CHECK(found.found->last_modified == demo_site::last_modified());
    CHECK(found.found->etag != site.find("/bytes/1001").found->etag);
    CHECK(site.find("/bytes/0").found->body->size() == 0);
    CHECK(site.find("/bytes/17179869184").found->body->size() == demo_site::max_bytes);
    for (const char* refused : {"/bytes/17179869185", "/bytes/", "/bytes/-1", "/bytes/1e3", "/bytes/12x",
                                "/bytes/99999999999999999999999"})
    {
        CAPTURE(refused);
        auto lookup = site.find(refused);
        CHECK_FALSE(lookup.found);
        CHECK(lookup.status == 400);
    }
}

TEST_CASE("every link and image of the demo site leads to a resource of the site")
{
    demo_site site;
    std::regex reference("(?:href|src)=\"([^\"]+)\"");
    std::vector<std::string> pages = {"/site/"};
    for (int n = 1; n <= demo_site::page_count; ++n)
        pages.push_back("/site/page-" + std::to_string(n) + ".html");
    std::set<std::string> images;
    for (const auto& page : pages)
    {
        auto found = site.find(page);
        REQUIRE(found.found);
        CHECK(found.found->content_type == "text/html; charset=utf-8");
        auto text = whole(*found.found);
        for (std::sregex_iterator it(text.begin(), text.end(), reference), end; it != end; ++it)
        {
            std::string link = (*it)[1];
            std::string path =
                link.starts_with("/") ? link : "/site/" + (link == "./" ? std::string() : link);
            CAPTURE(page);
            CAPTURE(link);
            CHECK(site.find(path).found);
            if (path.ends_with(".png"))
                images.insert(path);
        }
    }
    CHECK(images.size() > 8);
    CHECK_FALSE(site.find("/site/page-0.html").found);
    CHECK_FALSE(site.find("/site/page-41.html").found);
    CHECK_FALSE(site.find("/site/page-01.html").found);
    CHECK_FALSE(site.find("/site/img/image-16.png").found);
    CHECK(site.find("/site/nothing").status == 404);
}

TEST_CASE("the demo images run from about 1 KiB to about 500 KiB, each the same on every request")
{
    demo_site site;
    std::uint64_t smallest = ~std::uint64_t{0}, largest = 0;
    for (int n = 0; n < demo_site::image_count; ++n)
    {
        auto path = "/site/img/image-" + std::string(n < 10 ? "0" : "") + std::to_string(n) + ".png";
        auto first = site.find(path);
        REQUIRE(first.found);
        CHECK(first.found->content_type == "image/png");
        auto size = first.found->body->size();
        smallest = std::min(smallest, size);
        largest = std::max(largest, size);
        auto again = site.find(path);
        CHECK(again.found->etag == first.found->etag);
        CHECK(whole(*again.found) == whole(*first.found));
    }
    CHECK(smallest >= 1024);
    CHECK(smallest < 2048);
    CHECK(largest > 400 * 1024);
    CHECK(largest < 600 * 1024);
}
