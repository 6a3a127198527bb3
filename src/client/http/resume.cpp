#include "client/http/resume.hpp"

#include <algorithm>
#include <string_view>
#include <vector>

namespace fxrates::detail {

namespace {

// entity-tag's opaque-tag (RFC 9110 8.8.3): DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E / obs-text.
bool is_strong_entity_tag(std::string_view tag) noexcept
{
    if (tag.size() < 2 || tag.front() != '"' || tag.back() != '"')
        return false;
    auto inner = tag.substr(1, tag.size() - 2);
    return std::all_of(inner.begin(), inner.end(), [](char c) {
        auto byte = static_cast<unsigned char>(c);
        return byte == 0x21 || (byte >= 0x23 && byte != 0x7f);
    });
}

bool is_printable_ascii(std::string_view text) noexcept
{
    return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

bool iequals_ascii(std::string_view a, std::string_view b) noexcept
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return (x >= 'A' && x <= 'Z' ? x - 'A' + 'a' : x) == (y >= 'A' && y <= 'Z' ? y - 'A' + 'a' : y);
           });
}

} // namespace

std::string if_range_validator(const resume_point& point)
{
    if (is_strong_entity_tag(point.etag))
        return point.etag;
    if (!point.last_modified.empty() && is_printable_ascii(point.last_modified))
        return point.last_modified;
    return {};
}

bool asks_for_range(const request_fields& fields)
{
    return fields && std::any_of(fields->begin(), fields->end(), [](const request_field& field) {
               return iequals_ascii(field.name, "range") || iequals_ascii(field.name, "if-range");
           });
}

bool is_conditional(const request_fields& fields)
{
    return fields && std::any_of(fields->begin(), fields->end(), [](const request_field& field) {
               return iequals_ascii(field.name, "if-none-match") || iequals_ascii(field.name, "if-modified-since");
           });
}

request_fields with_resume_fields(const request_fields& fields, std::uint64_t offset, std::string validator)
{
    std::vector<request_field> all;
    if (fields)
        all = *fields;
    all.push_back({"Range", "bytes=" + std::to_string(offset) + "-"});
    all.push_back({"If-Range", std::move(validator)});
    return std::make_shared<const std::vector<request_field>>(std::move(all));
}

} // namespace fxrates::detail
