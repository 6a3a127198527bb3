#include "server/resource.hpp"

#include "server/http_date.hpp"
#include "server/http_field.hpp"

#include <boost/beast/core/string.hpp>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace fxrates::detail {

namespace {

std::string_view without_weak_prefix(std::string_view tag) noexcept
{
    return tag.starts_with("W/") ? tag.substr(2) : tag;
}

// Digits only, within 64 bits.
std::optional<std::uint64_t> whole_number(std::string_view text) noexcept
{
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size())
        return std::nullopt;
    return value;
}

// If-Range: an entity tag matches only by strong comparison, a date only if it is exactly the
// Last-Modified (RFC 9110 13.1.5).
bool if_range_matches(std::string_view field, std::string_view etag, std::time_t last_modified) noexcept
{
    field = without_ows(field);
    if (field.starts_with('"') || field.starts_with("W/"))
        return field == etag && !etag.starts_with("W/");
    auto date = parse_http_date(field);
    return date && *date == last_modified;
}

} // namespace

std::size_t text_source::read(std::uint64_t offset, std::span<char> out, boost::system::error_code&)
{
    if (offset >= text_->size())
        return 0;
    auto count = std::min<std::uint64_t>(out.size(), text_->size() - offset);
    std::memcpy(out.data(), text_->data() + offset, count);
    return count;
}

bool etag_list_matches(std::string_view list, std::string_view etag, bool strong) noexcept
{
    list = without_ows(list);
    if (list == "*")
        return true;
    auto wanted = without_weak_prefix(etag);
    while (!list.empty())
    {
        list = without_ows(list);
        auto tag = list;
        auto opaque = without_weak_prefix(tag);
        // An entity tag is quoted, and its opaque part may hold commas: find its closing quote.
        if (!opaque.starts_with('"'))
            return false;
        auto close = opaque.find('"', 1);
        if (close == std::string_view::npos)
            return false;
        const bool weak = tag.starts_with("W/") || etag.starts_with("W/");
        if (opaque.substr(0, close + 1) == wanted && !(strong && weak))
            return true;
        list = without_ows(opaque.substr(close + 1));
        if (!list.empty() && !list.starts_with(','))
            return false;
        if (!list.empty())
            list.remove_prefix(1);
    }
    return false;
}

std::optional<byte_range> parse_single_range(std::string_view field, std::uint64_t size) noexcept
{
    field = without_ows(field);
    auto equals = field.find('=');
    if (equals == std::string_view::npos ||
        !boost::beast::iequals(without_ows(field.substr(0, equals)), "bytes"))
        return std::nullopt;
    auto spec = without_ows(field.substr(equals + 1));
    if (spec.find(',') != std::string_view::npos)
        return std::nullopt; // several ranges: served whole instead
    auto dash = spec.find('-');
    if (dash == std::string_view::npos)
        return std::nullopt;
    auto first_text = spec.substr(0, dash);
    auto last_text = spec.substr(dash + 1);
    if (first_text.empty())
    {
        auto suffix = whole_number(last_text); // -n: the last n bytes
        if (!suffix)
            return std::nullopt;
        if (*suffix == 0 || size == 0)
            return byte_range{};
        auto length = std::min(*suffix, size);
        return byte_range{size - length, length};
    }
    auto first = whole_number(first_text);
    if (!first)
        return std::nullopt;
    std::uint64_t last = size == 0 ? 0 : size - 1;
    if (!last_text.empty())
    {
        auto given = whole_number(last_text);
        if (!given || *given < *first)
            return std::nullopt; // invalid, so ignored (RFC 9110 14.1.1)
        last = std::min(last, *given);
    }
    if (*first >= size)
        return byte_range{};
    return byte_range{*first, last - *first + 1};
}

selection select_representation(const request_conditions& request, std::string_view etag,
                                std::time_t last_modified, std::uint64_t size)
{
    bool get = request.method == "GET";
    if (!request.if_match.empty())
    {
        if (!etag_list_matches(request.if_match, etag, true))
            return {selection_kind::precondition_failed, {}};
    }
    else if (!request.if_unmodified_since.empty())
    {
        // A date that does not parse is ignored (RFC 9110 13.1.4).
        auto since = parse_http_date(without_ows(request.if_unmodified_since));
        if (since && last_modified > *since)
            return {selection_kind::precondition_failed, {}};
    }
    if (!request.if_none_match.empty())
    {
        if (etag_list_matches(request.if_none_match, etag))
            return {selection_kind::not_modified, {}};
    }
    else if (!request.if_modified_since.empty())
    {
        // A date that does not parse, or lies in the future, is ignored (RFC 9110 13.1.3).
        auto since = parse_http_date(without_ows(request.if_modified_since));
        if (since && *since <= request.now && last_modified <= *since)
            return {selection_kind::not_modified, {}};
    }
    selection whole{selection_kind::full, {0, size}};
    if (!get || request.range.empty())
        return whole;
    if (!request.if_range.empty() && !if_range_matches(request.if_range, etag, last_modified))
        return whole;
    auto range = parse_single_range(request.range, size);
    if (!range)
        return whole;
    if (range->length == 0)
        return {selection_kind::unsatisfiable, {}};
    return {selection_kind::partial, *range};
}

std::string content_range(byte_range range, std::uint64_t size)
{
    return "bytes " + std::to_string(range.first) + '-' + std::to_string(range.first + range.length - 1) +
           '/' + std::to_string(size);
}

std::string strong_etag(std::uint64_t size, std::uint64_t nanoseconds)
{
    // Two 64-bit numbers in hex are at most 16 digits each.
    char size_text[16];
    char time_text[16];
    auto size_end = std::to_chars(size_text, size_text + sizeof size_text, size, 16).ptr;
    auto time_end = std::to_chars(time_text, time_text + sizeof time_text, nanoseconds, 16).ptr;
    return '"' + std::string(size_text, size_end) + '-' + std::string(time_text, time_end) + '"';
}

} // namespace fxrates::detail
