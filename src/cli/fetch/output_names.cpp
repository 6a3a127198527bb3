#include "cli/fetch/output_names.hpp"
#include "cli/fetch/messages.hpp"

#include <fxrates/utf8.hpp>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <iterator>
#include <utility>

namespace fxrates::cli::fetch {

namespace {

constexpr std::size_t max_component = 255; // NAME_MAX
constexpr std::size_t max_name = 4096;     // PATH_MAX

} // namespace

name_pattern::name_pattern() : text_("{name}"), parts_{{field::name, {}}} {}

std::optional<name_pattern> name_pattern::parse(std::string_view text, std::string& why)
{
    static constexpr std::pair<std::string_view, field> placeholders[] = {
        {"index", field::index}, {"name", field::name},   {"host", field::host},
        {"path", field::path},   {"value", field::value},
    };
    const std::string shown = "--name " + quoted(text);
    if (text.empty())
    {
        why = shown + " is empty; use {name}, {index}, {host}, {path} or {value} and text";
        return std::nullopt;
    }
    if (text.front() == '/')
    {
        why = shown + " is absolute; names are relative to the -o folder";
        return std::nullopt;
    }
    name_pattern pattern;
    pattern.text_ = std::string(text);
    pattern.parts_.clear();
    while (!text.empty())
    {
        auto open = text.find('{');
        if (open != 0)
        {
            pattern.parts_.push_back({field::literal, std::string(text.substr(0, open))});
            text.remove_prefix(std::min(open, text.size()));
            continue;
        }
        auto close = text.find('}');
        if (close == std::string_view::npos)
        {
            why = shown + " has a { without its }";
            return std::nullopt;
        }
        std::string_view placeholder = text.substr(1, close - 1);
        auto known = std::find_if(std::begin(placeholders), std::end(placeholders),
                                  [&](const auto& entry) { return entry.first == placeholder; });
        if (known == std::end(placeholders))
        {
            why = shown + " has the unknown placeholder {" + escape_untrusted(placeholder) +
                  "}; use {index}, {name}, {host}, {path} or {value}";
            return std::nullopt;
        }
        pattern.parts_.push_back({known->second, {}});
        text.remove_prefix(close + 1);
    }
    return pattern;
}

name_result build_name(const name_pattern& pattern, const list_item& item, std::size_t index)
{
    auto fail = [&](std::string why) { return name_result{{}, line_prefix(item.line) + std::move(why)}; };
    std::string name;
    if (!item.file.empty())
        name = item.file;
    else
    {
        // The URL is parsed only for a pattern that names a part of it ({index} alone, the
        // benchmarks' pattern, needs none: a parse is ~4,000 instructions a file).
        bool names_url_parts = std::any_of(pattern.parts_.begin(), pattern.parts_.end(), [](const auto& part) {
            return part.kind == name_pattern::field::name || part.kind == name_pattern::field::host ||
                   part.kind == name_pattern::field::path;
        });
        boost::urls::url_view url;
        if (names_url_parts)
        {
            auto parsed = boost::urls::parse_uri(item.url);
            if (!parsed)
                return fail("cannot name a file for " + quoted(item.url) + ": it is not a URL");
            url = *parsed;
        }
        const std::string number = std::to_string(index + 1);
        // One component from the URL or the value: a decoded `/` would otherwise add folders the
        // pattern did not ask for.
        auto single = [&](std::string_view placeholder, std::string value) -> std::optional<std::string>
        {
            if (value.find('/') != std::string::npos)
                return "cannot name a file for " + quoted(item.url) + ": {" + std::string(placeholder) +
                       "} is " + quoted(value) + ", which contains a '/'";
            name += value;
            return std::nullopt;
        };
        for (const auto& part : pattern.parts_)
        {
            std::optional<std::string> why;
            switch (part.kind)
            {
            case name_pattern::field::literal:
                name += part.literal;
                break;
            case name_pattern::field::index:
                name += number;
                break;
            case name_pattern::field::name:
            {
                // The segments are split before decoding, so `..%2F..%2Fetc` is one segment.
                auto segments = url.segments();
                std::string last = segments.empty() ? std::string{} : std::string(*std::prev(segments.end()));
                why = single("name", last.empty() ? number : last);
                break;
            }
            case name_pattern::field::host:
                why = single("host", url.host());
                break;
            case name_pattern::field::path:
            {
                // Its segments decoded one by one: an encoded '/' (%2F) inside one is not a folder.
                std::string path;
                bool first = true;
                for (auto segment : url.segments())
                {
                    std::string text(segment);
                    if (text.find('/') != std::string::npos)
                    {
                        why = "cannot name a file for " + quoted(item.url) + ": {path} has the segment " +
                              quoted(text) + ", whose '/' was encoded (%2F): not a folder of the URL";
                        break;
                    }
                    path += (std::exchange(first, false) ? "" : "/") + text;
                }
                if (path.empty() || path.back() == '/')
                    path += number;
                name += path;
                break;
            }
            case name_pattern::field::value:
                if (item.value.empty())
                    return fail("--name uses {value}, but " + quoted(item.url) +
                                " comes from no template value");
                why = single("value", item.value);
                break;
            }
            if (why)
                return fail(std::move(*why));
        }
    }
    if (auto why = check_confined(name))
        return fail("the file name " + quoted(name) + " is refused: " + *why);
    return {std::move(name), {}};
}

std::optional<std::string> check_confined(std::string_view name)
{
    if (name.empty())
        return "it is empty";
    if (name.size() > max_name)
        return "it is longer than " + std::to_string(max_name) + " bytes";
    if (name.front() == '/')
        return "it is absolute; names must stay inside the output folder";
    for (std::string_view rest = name; !rest.empty();)
    {
        char32_t c = 0;
        std::size_t length = utf8_sequence(rest, c);
        if (length == 0)
            return "it is not UTF-8 text";
        if (c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F))
            return "it contains the control character " + escape_untrusted(rest.substr(0, length));
        if (is_invisible_control(c))
            return "it contains the invisible character " + escape_untrusted(rest.substr(0, length)) +
                   ", which makes a name read other than it is";
        if (c == '\\')
            return std::string("it contains a backslash");
        rest.remove_prefix(length);
    }
    for (std::string_view rest = name;;)
    {
        auto slash = rest.find('/');
        std::string_view component = rest.substr(0, slash);
        if (component.empty())
            return "it has an empty component (a '//' or a '/' at the end)";
        if (component == "." || component == "..")
            return "it has a \"" + std::string(component) +
                   "\" component; names must stay inside the output folder";
        if (component.size() > max_component)
            return "a component is longer than " + std::to_string(max_component) + " bytes";
        if (slash == std::string_view::npos)
            return std::nullopt;
        rest.remove_prefix(slash + 1);
    }
}

namespace {

// A line number as the table keeps it: not 0, at most 2^32 - 1.
std::uint32_t line_value(std::size_t line) noexcept
{
    return static_cast<std::uint32_t>(std::clamp<std::uint64_t>(line, 1, UINT32_MAX));
}

} // namespace

std::optional<std::string> name_registry::claim(const std::string& name, std::size_t line)
{
    auto prefix = [&] { return line_prefix(line) + "the file name " + quoted(name); };
    const auto key = name_hash(name);
    if (auto taken = files_.find(key))
        return prefix() + " is already taken by line " + std::to_string(taken);
    if (auto folder = folders_.find(key))
        return prefix() + " is already a folder for the file of line " + std::to_string(folder);
    for (auto slash = name.find('/'); slash != std::string::npos; slash = name.find('/', slash + 1))
        if (auto taken = files_.find(name_hash(std::string_view(name).substr(0, slash))))
            return prefix() + " needs " + quoted(name.substr(0, slash)) + " as a folder, but it is the file of line " +
                   std::to_string(taken);
    files_.put(key, line_value(line));
    for (auto slash = name.find('/'); slash != std::string::npos; slash = name.find('/', slash + 1))
        folders_.put(name_hash(std::string_view(name).substr(0, slash)), line_value(line));
    return std::nullopt;
}

} // namespace fxrates::cli::fetch
