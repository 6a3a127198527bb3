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
// "/a/c", and ".." never climbs above the root. An encoded dot ("%2e") is a dot (RFC 3986 6.2.2.2:
// it is unreserved). Boost.URL 1.81 keeps a ".." that climbs above the root, and decodes "%2e%2e"
// into a "..", when it resolves a reference (boostorg/url#808), so the client does it itself.
std::string remove_dot_segments(std::string_view path)
{
    auto dots = [](std::string_view segment) {
        std::size_t count = 0;
        while (!segment.empty())
        {
            if (segment.front() == '.')
                segment.remove_prefix(1);
            else if (segment.size() >= 3 && iequals(segment.substr(0, 3), "%2e"))
                segment.remove_prefix(3);
            else
                return std::size_t{0};
            ++count;
        }
        return count;
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
        const std::size_t count = dots(segment);
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

// Servers send a Location with a space or UTF-8 in it, and browsers and curl follow it: the bytes
// that cannot stand in a URL are percent-encoded into the URL the server meant. Control characters
// are left as they are, for the parser to refuse.
std::string encode_stray_bytes(std::string_view field)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string encoded;
    encoded.reserve(field.size());
    for (unsigned char c : field)
    {
        if (c >= 0x80 || c == ' ' || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`' ||
            c == '{' || c == '|' || c == '}')
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
    auto base_text = from.url(); // the view below points into it
    auto base = urls::parse_absolute_uri(base_text);
    if (!base)
    {
        why = "the URL '" + base_text + "' cannot be resolved against";
        return errc::bad_redirect;
    }
    urls::url resolved;
    if (auto resolution = urls::resolve(*base, *reference, resolved); !resolution)
    {
        why = "the Location '" + std::string(field) + "' cannot be resolved: " + resolution.error().message();
        return errc::bad_redirect;
    }
    resolved.remove_fragment();
    http_location next;
    if (auto ec = from_url(resolved, next, why))
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
