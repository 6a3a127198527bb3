#include "cli/fetch/json_fields.hpp"
#include "cli/fetch/messages.hpp"

#include <fxrates/utf8.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <charconv>
#include <cmath>
#include <utility>

namespace fxrates::cli::fetch {

namespace json = boost::json;

namespace {

// Shortest text that reads back as the same double ("1.085", not Boost.JSON's "1.085E0").
void append_double(std::string& out, double value)
{
    char buffer[32];
    auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, error == std::errc{} ? end : buffer);
}

// Compact JSON for `value`. Strings go through Boost.JSON's serializer, which escapes quotes,
// backslashes and controls; numbers are written as above.
void append_json(std::string& out, const json::value& value)
{
    switch (value.kind())
    {
    case json::kind::object:
    {
        out += '{';
        bool first = true;
        for (const auto& member : value.get_object())
        {
            if (!std::exchange(first, false))
                out += ',';
            out += json::serialize(json::string(member.key()));
            out += ':';
            append_json(out, member.value());
        }
        out += '}';
        break;
    }
    case json::kind::array:
    {
        out += '[';
        bool first = true;
        for (const auto& element : value.get_array())
        {
            if (!std::exchange(first, false))
                out += ',';
            append_json(out, element);
        }
        out += ']';
        break;
    }
    case json::kind::double_:
        append_double(out, value.get_double());
        break;
    default:
        out += json::serialize(value);
        break;
    }
}

// One field of the line. Doubling backslashes first makes the escapes that escape_untrusted adds
// unambiguous: `\t` in the output is always a tab in the value, `\\t` a backslash and a t.
std::string field_text(const json::value& value)
{
    if (value.is_string())
    {
        std::string raw;
        for (char c : value.get_string())
            raw += c == '\\' ? std::string_view("\\\\") : std::string_view(&c, 1);
        return escape_untrusted(raw, false);
    }
    std::string text;
    append_json(text, value);
    // Serialized JSON has no raw controls, but may hold raw C1, line separator or bidi characters
    // inside strings; their escapes (\u202e) are valid JSON escapes, so the result stays JSON.
    return escape_untrusted(text, false);
}

// Whether `value` is, or holds, a number read as infinity.
bool holds_non_finite(const json::value& value)
{
    switch (value.kind())
    {
    case json::kind::double_:
        return !std::isfinite(value.get_double());
    case json::kind::array:
        for (const auto& element : value.get_array())
            if (holds_non_finite(element))
                return true;
        return false;
    case json::kind::object:
        for (const auto& member : value.get_object())
            if (holds_non_finite(member.value()))
                return true;
        return false;
    default:
        return false;
    }
}

} // namespace

std::optional<std::string> check_pointer(std::string_view pointer)
{
    if (pointer.empty())
        return std::nullopt;
    if (pointer.front() != '/')
        return "--field " + quoted(pointer) + " is not a JSON pointer: it must start with '/' (/rates/USD)";
    for (std::size_t i = 0; i < pointer.size(); ++i)
        if (pointer[i] == '~' &&
            (i + 1 == pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1')))
            return "--field " + quoted(pointer) +
                   " is not a JSON pointer: '~' must be followed by 0 (for ~) or 1 (for /)";
    return std::nullopt;
}

bool extract_fields(std::string_view body, const std::vector<std::string>& pointers, std::string& line,
                    std::string& why)
{
    line.clear();
    why.clear();
    json::parse_options options;
    options.max_depth = max_json_depth;
    json::error_code ec;
    json::value document = json::parse(json::string_view(body.data(), body.size()), ec, {}, options);
    if (ec)
    {
        why = "the answer is not JSON (" + ec.message() + ")";
        return false;
    }
    for (std::size_t i = 0; i < pointers.size(); ++i)
    {
        const json::value* found = document.find_pointer(pointers[i], ec);
        if (!found)
        {
            why = "no field " + escape_untrusted(pointers[i], false) + " in the answer";
            line.clear();
            return false;
        }
        if (holds_non_finite(*found))
        {
            // Boost.JSON reads 1e400 as infinity: printed, it would be "inf", not the server's number.
            why = "the field " + escape_untrusted(pointers[i], false) +
                  " holds a number beyond the range of a double (such as 1e400), which cannot be printed as sent";
            line.clear();
            return false;
        }
        if (i > 0)
            line += '\t';
        line += field_text(*found);
    }
    return true;
}

} // namespace fxrates::cli::fetch
