#include "cli/fetch/validators.hpp"
#include "cli/fetch/output_names.hpp"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <optional>

namespace fxrates::cli::fetch {

namespace {

namespace json = boost::json;

// A member that must be a string, or (when `nullable`) null or absent, which read as "".
std::optional<std::string> string_member(const json::object& object, std::string_view key, bool nullable)
{
    const auto* value = object.if_contains(key);
    if (!value || value->is_null())
        return nullable ? std::optional<std::string>(std::string()) : std::nullopt;
    if (!value->is_string())
        return std::nullopt;
    return std::string(value->get_string());
}

std::optional<std::uint64_t> size_member(const json::object& object, std::string_view key)
{
    const auto* value = object.if_contains(key);
    if (!value)
        return std::nullopt;
    if (value->is_uint64())
        return value->get_uint64();
    if (value->is_int64() && value->get_int64() >= 0)
        return static_cast<std::uint64_t>(value->get_int64());
    return std::nullopt;
}

bool is_hex_digest(std::string_view text)
{
    if (text.size() != 64)
        return false;
    for (char c : text)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    return true;
}

std::optional<validator_entry> parse_entry(std::string_view line)
{
    boost::system::error_code ec;
    auto value = json::parse(line, ec);
    if (ec || !value.is_object())
        return std::nullopt;
    const auto& object = value.get_object();
    auto file = string_member(object, "file", false);
    auto url = string_member(object, "url", false);
    auto etag = string_member(object, "etag", true);
    auto last_modified = string_member(object, "last_modified", true);
    auto sha256 = string_member(object, "sha256", true);
    auto bytes = size_member(object, "bytes");
    if (!file || !url || !etag || !last_modified || !sha256 || !bytes)
        return std::nullopt;
    std::int64_t mtime_ns = 0; // absent in lines of older runs
    if (const auto* mtime = object.if_contains("mtime_ns"); mtime && !mtime->is_null())
    {
        if (!mtime->is_int64() && !mtime->is_uint64())
            return std::nullopt;
        mtime_ns = mtime->is_int64() ? mtime->get_int64() : static_cast<std::int64_t>(mtime->get_uint64());
    }
    if (check_confined(*file) || *file == validators_file_name)
        return std::nullopt;
    // A hostile file must not add fields to a request: refused, not cleaned up.
    if ((!etag->empty() && !is_sendable_validator(*etag)) ||
        (!last_modified->empty() && !is_sendable_validator(*last_modified)))
        return std::nullopt;
    if (!sha256->empty() && !is_hex_digest(*sha256))
        return std::nullopt;
    return validator_entry{std::move(*file),          std::move(*url), std::move(*etag),
                           std::move(*last_modified), *bytes,          std::move(*sha256), mtime_ns};
}

json::value string_or_null(const std::string& text)
{
    if (text.empty())
        return nullptr;
    return json::string(text);
}

} // namespace

bool is_internal_name(std::string_view name)
{
    auto leaf = name.substr(name.rfind('/') == std::string_view::npos ? 0 : name.rfind('/') + 1);
    return leaf == validators_file_name || (leaf.starts_with('.') && leaf.find(".fxrates-") != std::string_view::npos);
}

bool is_sendable_validator(std::string_view value)
{
    if (value.empty() || value.size() > max_validator_length)
        return false;
    for (char c : value)
        if (c < 0x20 || c > 0x7E)
            return false;
    return true;
}

std::optional<validator_entry> parse_entry_line(std::string_view line)
{
    if (line.find_first_not_of(" \t\r") == std::string_view::npos)
        return std::nullopt;
    return parse_entry(line);
}

bool validator_index::add(std::string_view line, std::uint64_t offset)
{
    auto entry = parse_entry_line(line);
    if (!entry || offset > max_offset)
        return false;
    offsets_.put(name_hash(entry->file), static_cast<std::uint32_t>(offset + 1), true);
    return true;
}

std::optional<std::uint64_t> validator_index::find(std::string_view file) const
{
    if (auto found = offsets_.find(name_hash(file)))
        return found - 1;
    return std::nullopt;
}

namespace {

// What of `entry` may be kept: false for a name that may not be; validators that could not be
// sent back are dropped (the file is then fetched unconditionally next time).
bool sanitize(validator_entry& entry)
{
    if (check_confined(entry.file) || entry.file == validators_file_name)
        return false;
    if (!is_sendable_validator(entry.etag))
        entry.etag.clear();
    if (!is_sendable_validator(entry.last_modified))
        entry.last_modified.clear();
    if (!is_hex_digest(entry.sha256))
        entry.sha256.clear();
    return true;
}

void append_line(const validator_entry& entry, std::string& text)
{
    json::object object;
    object["file"] = entry.file;
    object["url"] = entry.url;
    object["etag"] = string_or_null(entry.etag);
    object["last_modified"] = string_or_null(entry.last_modified);
    object["bytes"] = entry.bytes;
    object["sha256"] = string_or_null(entry.sha256);
    if (entry.mtime_ns != 0)
        object["mtime_ns"] = entry.mtime_ns;
    text += json::serialize(object);
    text += '\n';
}

} // namespace

bool append_entry_line(validator_entry entry, std::string& text)
{
    if (!sanitize(entry))
        return false;
    append_line(entry, text);
    return true;
}

std::vector<std::pair<std::string, std::string>> conditional_fields(const validator_entry& entry, std::string_view url,
                                                                    std::uint64_t size_on_disk,
                                                                    std::int64_t mtime_ns)
{
    std::vector<std::pair<std::string, std::string>> fields;
    if (entry.url != url || entry.bytes != size_on_disk || (entry.mtime_ns != 0 && entry.mtime_ns != mtime_ns))
        return fields;
    if (!entry.etag.empty())
        fields.emplace_back("If-None-Match", entry.etag);
    // RFC 9110 13.1.3: a server ignores If-Modified-Since when If-None-Match is present; sending
    // both still helps one that knows only dates.
    if (!entry.last_modified.empty())
        fields.emplace_back("If-Modified-Since", entry.last_modified);
    return fields;
}

} // namespace fxrates::cli::fetch
