#include "server/demo_site.hpp"

#include "server/pattern.hpp"
#include "server/png.hpp"

#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>

namespace fxrates::detail {

namespace {

constexpr std::string_view site_prefix = "/site/";
constexpr std::string_view bytes_prefix = "/bytes/";
constexpr std::string_view html = "text/html; charset=utf-8";

std::string two_digits(int n)
{
    return std::string(1, static_cast<char>('0' + n / 10)) + static_cast<char>('0' + n % 10);
}

// Image NN: sides from 20 to 440 pixels; the odd ones are noise on every other row only, so that
// sizes spread from under 1 KiB to about 500 KiB.
png_spec image_spec(int index)
{
    auto side = static_cast<std::uint32_t>(20 + 28 * index);
    return {side, side, static_cast<std::uint64_t>(index) + 1, index % 2 == 0 ? 1u : 2u};
}

std::string page_html(int n)
{
    using std::to_string;
    auto page = [](int m) { return "page-" + to_string(m) + ".html"; };
    int count = demo_site::page_count;
    int previous = n == 1 ? count : n - 1;
    int next = n == count ? 1 : n + 1;
    int far = (n * 7) % count + 1;
    std::string text =
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Page " + to_string(n) +
        " of the fxrates demo site</title>\n</head>\n<body>\n<h1>Page " + to_string(n) +
        "</h1>\n<p>A page of the site that <code>fxrates serve</code> generates, for URL fetchers "
        "to try offline.</p>\n<ul>\n";
    text += "<li><a href=\"" + page(previous) + "\">previous</a></li>\n";
    text += "<li><a href=\"" + page(next) + "\">next</a></li>\n";
    text += "<li><a href=\"/site/" + page(far) + "\">page " + to_string(far) + "</a></li>\n";
    text += "<li><a href=\"./\">index</a></li>\n";
    text += "<li><a href=\"/bytes/" + to_string(1024 * n) + "\">" + to_string(1024 * n) + " bytes</a></li>\n";
    text += "</ul>\n";
    for (int image : {n % demo_site::image_count, (n * 5 + 3) % demo_site::image_count})
        text +=
            "<img src=\"img/image-" + two_digits(image) + ".png\" alt=\"image " + to_string(image) + "\">\n";
    text += "</body>\n</html>\n";
    return text;
}

std::string index_html()
{
    std::string text =
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<title>fxrates demo site</title>\n</head>\n<body>\n<h1>fxrates demo site</h1>\n<ul>\n";
    for (int n = 1; n <= demo_site::page_count; ++n)
        text +=
            "<li><a href=\"page-" + std::to_string(n) + ".html\">page " + std::to_string(n) + "</a></li>\n";
    text += "</ul>\n<p><img src=\"img/image-00.png\" alt=\"image 0\"></p>\n</body>\n</html>\n";
    return text;
}

// N of `prefix` + N + `suffix`, N from `low` to `high` written without leading zeros (or, with
// `digits`, with exactly that many digits).
std::optional<int> numbered(std::string_view name, std::string_view prefix, std::string_view suffix, int low,
                            int high, int digits = 0)
{
    if (!name.starts_with(prefix) || !name.ends_with(suffix) || name.size() <= prefix.size() + suffix.size())
        return std::nullopt;
    auto number = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
    if ((digits && number.size() != static_cast<std::size_t>(digits)) || (!digits && number.starts_with('0')))
        return std::nullopt;
    int value = 0;
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (ec != std::errc() || end != number.data() + number.size() || value < low || value > high)
        return std::nullopt;
    return value;
}

} // namespace

void fill_pattern(std::uint64_t offset, std::span<char> out) noexcept
{
    std::size_t done = 0;
    while (done < out.size())
    {
        std::uint64_t at = offset + done;
        std::uint64_t state = pattern_seed + (at / 8) * 0x9e3779b97f4a7c15ULL;
        std::uint64_t value = splitmix64(state);
        for (auto byte = at % 8; byte < 8 && done < out.size(); ++byte)
            out[done++] = static_cast<char>(value >> (8 * byte));
    }
}

std::size_t pattern_source::read(std::uint64_t offset, std::span<char> out, boost::system::error_code&)
{
    if (offset >= size_)
        return 0;
    auto count = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), size_ - offset));
    fill_pattern(offset, out.first(count));
    return count;
}

bool demo_site::owns(std::string_view path) noexcept
{
    return path.starts_with(site_prefix) || path == "/site" || path.starts_with(bytes_prefix);
}

std::time_t demo_site::last_modified() noexcept
{
    using namespace std::chrono;
    return static_cast<std::time_t>(
        sys_seconds{sys_days{std::chrono::year{2019} / 4 / 9}}.time_since_epoch().count());
}

resource_lookup demo_site::find(std::string_view path)
{
    if (path.starts_with(bytes_prefix))
    {
        auto count = path.substr(bytes_prefix.size());
        std::uint64_t size = 0;
        auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), size);
        if (count.empty() || ec != std::errc() || end != count.data() + count.size() || size > max_bytes)
            return {std::nullopt, 400,
                    "Bad request: /bytes/N takes N from 0 to " + std::to_string(max_bytes) + " (16 GiB)."};
        return {resource{"application/octet-stream", strong_etag(size, pattern_seed), last_modified(),
                         std::make_shared<pattern_source>(size)}};
    }
    if (path == "/site")
        return {std::nullopt, 301, "Moved Permanently"};
    if (!path.starts_with(site_prefix))
        return {};
    auto name = path.substr(site_prefix.size());
    if (name.empty() || name == "index.html")
        return text("index", html);
    if (auto n = numbered(name, "page-", ".html", 1, page_count))
        return text("page-" + std::to_string(*n), html);
    if (auto n = numbered(name, "img/image-", ".png", 0, image_count - 1, 2))
        return text("image-" + two_digits(*n), "image/png");
    return {};
}

resource_lookup demo_site::text(const std::string& key, std::string_view content_type)
{
    auto cached = cache_.find(key);
    if (cached == cache_.end())
    {
        std::string made;
        if (key == "index")
            made = index_html();
        else if (key.starts_with("page-"))
            made = page_html(std::stoi(key.substr(5)));
        else
            made = make_png(image_spec(std::stoi(key.substr(6))));
        cached = cache_.emplace(key, std::make_shared<const std::string>(std::move(made))).first;
    }
    const auto& body = cached->second;
    auto crc = crc32(0L, reinterpret_cast<const Bytef*>(body->data()), static_cast<uInt>(body->size()));
    return {resource{std::string(content_type), strong_etag(body->size(), crc), last_modified(),
                     std::make_shared<text_source>(body)}};
}

} // namespace fxrates::detail
