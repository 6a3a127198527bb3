#include "client/http/redirect.hpp"

#include "client/http/ascii.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <algorithm>
#include <cctype>
#include <iterator>
#include <memory>
#include <vector>

namespace fxrates::detail {

namespace urls = boost::urls;

namespace {

// A path without its "." and ".." segments (RFC 3986 5.2.4), as curl sends it: "/a/b/../c" is
// "/a/c", and ".." never climbs above the root. Encoded dots ("%2e%2e") are left to the server,
// as curl leaves them: a value that is ".." can then be sent as data. Boost.URL 1.81 keeps a ".."
// that climbs above the root (boostorg/url#808), so the client does it itself.
std::string remove_dot_segments(std::string_view path)
{
    auto dots = [](std::string_view segment) {
        return segment == "." ? 1 : segment == ".." ? 2 : 0;
    };
    const bool absolute = path.starts_with('/');
    if (absolute)
        path.remove_prefix(1);
    std::vector<std::string_view> kept;
    for (bool last = false; !last;)
    {
        const auto end = path.find('/');
        last = end == std::string_view::npos;
        const auto segment = path.substr(0, end);
        path.remove_prefix(last ? path.size() : end + 1);
        const int count = dots(segment);
        if (count == 2 && !kept.empty())
            kept.pop_back();
        if (count == 1 || count == 2)
        {
            if (last) // "a/." and "a/.." name a folder: the slash stays
                kept.emplace_back();
            continue;
        }
        kept.push_back(segment);
    }
    std::string result = absolute ? "/" : "";
    for (std::size_t i = 0; i < kept.size(); ++i)
        result.append(i > 0 ? "/" : "").append(kept[i]);
    return result;
}

error_code from_url(const urls::url_view& url, http_location& out, std::string& why)
{
    if (url.scheme_id() != urls::scheme::https && url.scheme_id() != urls::scheme::http)
    {
        why = "the scheme '" + std::string(url.scheme()) + "' is not http or https";
        return errc::bad_redirect;
    }
    if (!url.has_authority() || url.encoded_host().empty())
    {
        why = "'" + std::string(url.buffer()) + "' names no host";
        return errc::bad_redirect;
    }
    http_location result;
    result.origin.scheme = url.scheme_id() == urls::scheme::https ? "https" : "http";
    result.origin.port = result.origin.default_port();
    switch (url.host_type())
    {
    case urls::host_type::ipv4: result.origin.host = url.host_ipv4_address().to_string(); break;
    case urls::host_type::ipv6: result.origin.host = url.host_ipv6_address().to_string(); break;
    case urls::host_type::name:
        result.origin.host = url.host_name();
        // Decoded, a name could hide a NUL or a line break (header injection): refuse them.
        if (!std::all_of(result.origin.host.begin(), result.origin.host.end(), [](unsigned char c) {
                return std::isalnum(c) || c == '-' || c == '.' || c == '_';
            }))
        {
            why = "the host of '" + std::string(url.buffer()) + "' has characters no host name has";
            return errc::bad_redirect;
        }
        std::transform(result.origin.host.begin(), result.origin.host.end(), result.origin.host.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        break;
    default:
        why = "the host of '" + std::string(url.buffer()) + "' is not supported";
        return errc::bad_redirect;
    }
    if (url.has_port() && !url.port().empty()) // "host:" is the default port (RFC 3986, 6.2.3)
    {
        // Read from the text: Boost 1.81's port_number() wraps a number above 65535 round to another
        // port, which would fetch from another server.
        auto text = url.port();
        // Leading zeros are allowed (RFC 3986 3.2.3: *DIGIT), as curl reads them: 08080 is 8080.
        while (text.size() > 1 && text.front() == '0')
            text.remove_prefix(1);
        unsigned long number = 0;
        bool digits = text.size() <= 5 && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (digits)
            number = std::stoul(std::string(text));
        if (!digits || number == 0 || number > 65535)
        {
            why = "the port of '" + std::string(url.buffer()) + "' is not a port number from 1 to 65535";
            return errc::bad_redirect;
        }
        result.origin.port = static_cast<std::uint16_t>(number);
    }
    auto path = url.encoded_path();
    if (!path.empty() && !path.starts_with('/'))
    {
        why = "the path of '" + std::string(url.buffer()) + "' does not start with '/'";
        return errc::bad_redirect;
    }
    result.target = path.empty() ? "/" : remove_dot_segments(path);
    if (url.has_query())
        result.target += "?" + std::string(url.encoded_query());
    out = std::move(result);
    return {};
}

} // namespace

error_code parse_http_location(std::string_view text, http_location& out, std::string& why)
{
    // A #fragment names a part of the answer, for the reader: never sent (RFC 9110 4.2.5).
    auto parsed = urls::parse_uri(text);
    if (!parsed)
    {
        why = "'" + std::string(text) + "' is not a URL (" + parsed.error().message() + ")";
        return errc::bad_redirect;
    }
    if (!parsed->has_fragment())
        return from_url(*parsed, out, why);
    urls::url sent(*parsed);
    sent.remove_fragment();
    return from_url(sent, out, why);
}

namespace {

// Servers send a Location with a space, UTF-8, brackets or a lone '%' in it, and browsers and curl
// follow it: the bytes that cannot stand there in a URL are percent-encoded into the URL the
// server meant (a '[' in a path or query; not in the authority, where it holds an IPv6 address; a
// '#' after the fragment's own). Control characters are left as they are, for the parser to refuse.
std::string encode_stray_bytes(std::string_view field)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    auto is_hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
    // Where the authority ends ("//host:port" after an optional scheme), if there is one.
    std::size_t authority_end = 0;
    const auto colon = field.find(':');
    const auto first_special = field.find_first_of("/?#");
    const std::size_t after_scheme = colon != std::string_view::npos && colon < first_special ? colon + 1 : 0;
    if (field.substr(after_scheme).starts_with("//"))
        authority_end = std::min(field.find_first_of("/?#", after_scheme + 2), field.size());
    std::string encoded;
    encoded.reserve(field.size());
    bool in_fragment = false;
    for (std::size_t i = 0; i < field.size(); ++i)
    {
        const auto c = static_cast<unsigned char>(field[i]);
        const bool bracket = (c == '[' || c == ']') && i >= authority_end;
        const bool lone_percent = c == '%' && !(i + 2 < field.size() && is_hex(field[i + 1]) && is_hex(field[i + 2]));
        const bool second_hash = c == '#' && in_fragment;
        in_fragment = in_fragment || c == '#';
        if (c >= 0x80 || c == ' ' || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`' ||
            c == '{' || c == '|' || c == '}' || bracket || lone_percent || second_hash)
            encoded.append({'%', hex[c >> 4], hex[c & 15]});
        else
            encoded.push_back(static_cast<char>(c));
    }
    return encoded;
}

} // namespace

error_code resolve_redirect(const http_location& from, std::string_view field, http_location& to, std::string& why)
{
    const std::string encoded = encode_stray_bytes(field);
    auto reference = urls::parse_uri_reference(encoded);
    if (field.empty() || !reference)
    {
        why = field.empty() ? "the Location is empty"
                            : "the Location '" + std::string(field) + "' is not a URL (" +
                                  reference.error().message() + ")";
        return errc::bad_redirect;
    }
    // RFC 3986 5.2.2 on the encoded text: Boost.URL 1.81's resolve() decodes "%2F" in the
    // reference's path into a '/', which names another resource (boostorg/url#808).
    const urls::url_view& ref = *reference;
    std::string target;
    if (ref.has_scheme())
        target = std::string(ref.scheme()) + ":";
    else
        target = from.origin.scheme + ":";
    if (ref.has_scheme() || ref.has_authority())
    {
        if (ref.has_authority())
            target += "//" + std::string(ref.encoded_authority());
        target += ref.encoded_path();
        if (ref.has_query())
            target += "?" + std::string(ref.encoded_query());
    }
    else
    {
        const std::string_view base_target = from.target;
        const auto query_at = base_target.find('?');
        const std::string_view base_path = base_target.substr(0, query_at);
        target += "//" + from.origin.host_header();
        const std::string_view path = ref.encoded_path();
        if (path.empty())
        {
            target += base_path;
            if (ref.has_query())
                target += "?" + std::string(ref.encoded_query());
            else if (query_at != std::string_view::npos)
                target += base_target.substr(query_at);
        }
        else
        {
            if (path.starts_with('/'))
                target += path;
            else // merged: the base's path up to its last '/', then the reference's
                target += std::string(base_path.substr(0, base_path.rfind('/') + 1)) + std::string(path);
            if (ref.has_query())
                target += "?" + std::string(ref.encoded_query());
        }
    }
    http_location next;
    if (auto ec = parse_http_location(target, next, why)) // removes the dot segments
        return ec;
    if (from.origin.secure() && !next.origin.secure())
    {
        why = "the server at " + from.origin.host_header() + " redirected to " + next.url() +
              ", which is plain http: fxrates does not drop encryption on a redirect";
        return errc::insecure_redirect;
    }
    to = std::move(next);
    return {};
}

bool redirect_chain::contains(const std::string& url) const
{
    return std::find(urls_.begin(), urls_.end(), url) != urls_.end();
}

std::string redirect_chain::text(const std::string& next) const
{
    std::vector<const std::string*> all;
    for (const auto& url : urls_)
        all.push_back(&url);
    if (!next.empty())
        all.push_back(&next);
    // A long chain keeps its first two and last two hops, so that the message stays one line.
    constexpr std::size_t shown_at_each_end = 2;
    std::string chain;
    for (std::size_t i = 0; i < all.size(); ++i)
    {
        if (all.size() > 2 * shown_at_each_end + 1 && i == shown_at_each_end)
        {
            std::size_t skipped = all.size() - 2 * shown_at_each_end;
            chain += " -> (" + std::to_string(skipped) + " more)";
            i = all.size() - shown_at_each_end - 1;
            continue;
        }
        chain += (chain.empty() ? "" : " -> ") + *all[i];
    }
    return chain;
}

request_fields fields_for_hop(const request_fields& caller, const origin& first, const origin& to)
{
    auto is_credential = [](const request_field& field) {
        return iequals(field.name, "authorization") || iequals(field.name, "proxy-authorization") ||
               iequals(field.name, "cookie");
    };
    if (!caller || to == first || std::none_of(caller->begin(), caller->end(), is_credential))
        return caller;
    std::vector<request_field> kept;
    std::copy_if(caller->begin(), caller->end(), std::back_inserter(kept),
                 [&](const request_field& field) { return !is_credential(field); });
    return std::make_shared<const std::vector<request_field>>(std::move(kept));
}

} // namespace fxrates::detail
