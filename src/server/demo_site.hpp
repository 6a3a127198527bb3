#pragma once

#include "server/resource.hpp"

#include <cstdint>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace fxrates::detail {

/// The server's built-in site, for URL fetchers and crawlers to try offline (when no `--root` is
/// given):
/// - `/site/` (also `/site/index.html`): an index linking every page;
/// - `/site/page-N.html`, N from 1 to `page_count`: pages linking to each other (relative and
///   absolute links) and showing images;
/// - `/site/img/image-NN.png`, NN from 00 to `image_count - 1`: valid PNG images from about 1 KiB
///   to about 500 KiB;
/// - `/bytes/N`: N deterministic bytes (`fill_pattern`), N up to `max_bytes`; a query is ignored.
///
/// Everything is generated: pages and images on their first request, then kept (about 3 MiB for
/// all images); /bytes is never held, only read piece by piece. Every resource has a strong ETag
/// and the fixed Last-Modified `last_modified`. Sans-io; not thread-safe.
class demo_site
{
public:
    static constexpr int page_count = 40;
    static constexpr int image_count = 16;
    static constexpr std::uint64_t max_bytes = std::uint64_t{16} << 30;

    /// Whether `path` (without query) is under `/site` or `/bytes/`: the other paths are the API's.
    static bool owns(std::string_view path) noexcept;

    /// The resource at `path` (without query); 404 for an unknown one, 400 for a /bytes/N whose N is
    /// not a number or above `max_bytes`.
    resource_lookup find(std::string_view path);

    /// 2019-04-09 00:00:00 UTC, the date of every resource.
    static std::time_t last_modified() noexcept;

private:
    resource_lookup text(const std::string& key, std::string_view content_type);
    std::map<std::string, std::shared_ptr<const std::string>, std::less<>> cache_;
};

/// The bytes of `/bytes/N` as a `body_source`.
class pattern_source final : public body_source
{
public:
    explicit pattern_source(std::uint64_t size) : size_(size) {}
    std::uint64_t size() const noexcept override { return size_; }
    std::size_t read(std::uint64_t offset, std::span<char> out, boost::system::error_code& ec) override;

private:
    std::uint64_t size_;
};

} // namespace fxrates::detail
