#include "cli/fetch/url_list.hpp"
#include "cli/fetch/messages.hpp"

#include <fxrates/utf8.hpp>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <vector>

namespace fxrates::cli::fetch {

namespace {

constexpr std::string_view white_space = " \t\r\n\v\f";

std::string_view trim(std::string_view text)
{
    auto first = text.find_first_not_of(white_space);
    if (first == std::string_view::npos)
        return {};
    auto last = text.find_last_not_of(white_space);
    return text.substr(first, last - first + 1);
}

bool is_control(unsigned char c) noexcept
{
    return c < 0x20 || c == 0x7F;
}

parsed_line line_error(std::size_t line_number, std::string message)
{
    return {.kind = line_kind::error, .item = {}, .error = line_prefix(line_number) + std::move(message)};
}

// The first control character of `text` that is not a field separator, as an escape for the message;
// empty if there is none.
std::string stray_control(std::string_view text, bool tab_allowed)
{
    for (char c : text)
        if (is_control(static_cast<unsigned char>(c)) && !(tab_allowed && c == '\t'))
            return escape_untrusted(std::string_view(&c, 1));
    return {};
}

// What every line gets first: `text` is trimmed (a CR left by CRLF files goes with the white space);
// a blank or comment line is a skip, and a control character (but a field-separating tab where
// `tab_allowed`) an error, named as such instead of surfacing later as a confusing URL error.
// nullopt when the line goes on to be parsed.
std::optional<parsed_line> screen(std::string_view& text, std::size_t line_number, bool tab_allowed,
                                  std::string_view expected)
{
    text = trim(text);
    if (text.empty() || text.front() == '#')
        return parsed_line{};
    if (auto control = stray_control(text, tab_allowed); !control.empty())
        return line_error(line_number,
                          "contains the control character " + control + "; " + std::string(expected));
    return std::nullopt;
}

parsed_line item_line(std::size_t line_number)
{
    parsed_line result;
    result.kind = line_kind::item;
    result.item.line = line_number;
    return result;
}

} // namespace

std::optional<std::string> check_url(std::string_view url)
{
    for (char c : url)
    {
        auto byte = static_cast<unsigned char>(c);
        if (is_control(byte))
            return "it contains the control character " + escape_untrusted(std::string_view(&c, 1));
        if (c == ' ')
            return std::string("it contains a space; write it as %20");
        if (byte >= 0x80)
            return std::string("characters outside ASCII must be percent-encoded");
    }
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed)
        return "it is not an absolute URL: " + parsed.error().message();
    const boost::urls::url_view& view = *parsed;
    auto scheme = view.scheme_id();
    if (scheme != boost::urls::scheme::http && scheme != boost::urls::scheme::https)
        return "its scheme is " + escape_untrusted(view.scheme());
    if (!view.has_authority() || view.encoded_host().empty())
        return std::string("it has no host");
    // fxrates sends no credentials, and a URL with them would also put a password in messages and
    // reports: refused rather than silently fetched without them.
    if (view.has_port() && !view.port().empty())
    {
        auto port = view.port();
        bool digits = port.size() <= 5 && port.find_first_not_of("0123456789") == boost::core::string_view::npos;
        if (!digits || std::stoul(std::string(port)) == 0 || std::stoul(std::string(port)) > 65535)
            return "its port " + escape_untrusted(port) + " is not a number from 1 to 65535";
    }
    if (!view.encoded_path().empty() && !view.encoded_path().starts_with('/'))
        return std::string("its path does not start with '/'");
    if (view.has_userinfo())
        return std::string("it has a user name or password (user:pass@), which fxrates does not send");
    return std::nullopt;
}

parsed_line parse_list_line(std::string_view text, std::size_t line_number)
{
    if (auto screened = screen(text, line_number, true, "a list has one URL (and optionally a FILE) a line"))
        return *screened;
    std::vector<std::string_view> fields;
    while (!text.empty())
    {
        auto end = text.find_first_of(" \t");
        fields.push_back(text.substr(0, end));
        text = end == std::string_view::npos ? std::string_view{} : trim(text.substr(end));
    }
    if (fields.size() > 2)
        return line_error(line_number, "has " + std::to_string(fields.size()) +
                                           " fields; a line is URL or URL FILE (a space inside a URL "
                                           "must be written as %20)");
    if (auto why = check_url(fields[0]))
        return line_error(line_number,
                          quoted(fields[0]) + " is not an http:// or https:// URL (" + *why + ")");
    parsed_line result = item_line(line_number);
    result.item.url = std::string(fields[0]);
    if (fields.size() == 2)
        result.item.file = std::string(fields[1]);
    return result;
}

parsed_line parse_value_line(std::string_view text, std::size_t line_number)
{
    if (auto screened = screen(text, line_number, false, "a values file has one value a line"))
        return *screened;
    if (valid_utf8(text) != text)
        return line_error(line_number, quoted(text) + " is not UTF-8 text");
    parsed_line result = item_line(line_number);
    result.item.value = std::string(text);
    return result;
}

std::string percent_encode(std::string_view value)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(value.size());
    const bool dot_segment = value == "." || value == "..";
    for (char c : value)
    {
        auto byte = static_cast<unsigned char>(c);
        bool unreserved = (byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
                          (byte >= '0' && byte <= '9') || c == '-' || (c == '.' && !dot_segment) || c == '_' ||
                          c == '~';
        if (unreserved)
            out += c;
        else
        {
            out += '%';
            out += hex[byte >> 4];
            out += hex[byte & 0xF];
        }
    }
    return out;
}

std::string fill_template(std::string_view pattern, std::string_view value)
{
    const std::string encoded = percent_encode(value);
    std::string out;
    for (;;)
    {
        auto at = pattern.find("{}");
        out.append(pattern.substr(0, at));
        if (at == std::string_view::npos)
            return out;
        out += encoded;
        pattern.remove_prefix(at + 2);
    }
}

std::optional<std::string> check_template(std::string_view pattern)
{
    if (pattern.find("{}") == std::string_view::npos)
        return "the template " + quoted(pattern) + " has no {} to put each value in";
    if (auto why = check_url(fill_template(pattern, "value")))
        return "the template " + quoted(pattern) + " does not make an http:// or https:// URL (" + *why + ")";
    return std::nullopt;
}

parsed_line template_item(std::string_view pattern, parsed_line values_line)
{
    if (values_line.kind != line_kind::item)
        return values_line;
    values_line.item.url = fill_template(pattern, values_line.item.value);
    if (auto why = check_url(values_line.item.url))
        return line_error(values_line.item.line, "the value " + quoted(values_line.item.value) + " makes " +
                                                     quoted(values_line.item.url) +
                                                     ", not an http:// or https:// URL (" + *why + ")");
    return values_line;
}

} // namespace fxrates::cli::fetch
