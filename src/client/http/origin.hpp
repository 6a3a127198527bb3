#pragma once

// Where requests go: the (scheme, host, port) triple of RFC 6454. Connections are pooled, limited
// and throttled per origin; a redirect to another origin uses that origin's pool and its own
// certificate check.

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace fxrates::detail {

struct origin
{
    std::string scheme = "https"; ///< "https" or "http", lower case
    std::string host;             ///< lower case; an IPv6 address without brackets
    std::uint16_t port = 443;

    bool secure() const noexcept { return scheme == "https"; }
    std::uint16_t default_port() const noexcept { return secure() ? 443 : 80; }
    bool host_is_ipv6() const noexcept { return host.find(':') != std::string::npos; }

    /// The Host header: the host, bracketed if IPv6, with the port unless it is the scheme's default.
    std::string host_header() const
    {
        std::string text;
        append_host_header(text);
        return text;
    }

    /// Appends the Host header to `out`, making no temporaries (it is written for every request).
    void append_host_header(std::string& out) const
    {
        bool bracketed = host_is_ipv6();
        if (bracketed)
            out += '[';
        out += host;
        if (bracketed)
            out += ']';
        if (port != default_port())
        {
            char digits[8];
            auto end = std::to_chars(digits, digits + sizeof digits, port).ptr;
            out += ':';
            out.append(digits, end);
        }
    }

    /// "https://host[:port]", for messages and for building absolute URLs.
    std::string text() const
    {
        std::string out;
        out.reserve(scheme.size() + 3 + host.size() + 8);
        out.append(scheme).append("://");
        append_host_header(out);
        return out;
    }

    friend bool operator==(const origin&, const origin&) = default;
};

struct origin_hash
{
    std::size_t operator()(const origin& o) const noexcept
    {
        std::size_t h = std::hash<std::string>{}(o.host);
        h ^= std::hash<std::string>{}(o.scheme) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
        return h ^ (static_cast<std::size_t>(o.port) << 1);
    }
};

} // namespace fxrates::detail
