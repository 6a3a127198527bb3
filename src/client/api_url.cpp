#include "client/api_url.hpp"

#include <algorithm>
#include <charconv>
#include <cctype>

#include <fxrates/client_params.hpp>
#include <fxrates/date.hpp>

#include <boost/url/ipv6_address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

namespace fxrates::detail {

std::string api_endpoint::host_header() const
{
    bool ipv6 = host.find(':') != std::string::npos;
    std::string header = ipv6 ? "[" + host + "]" : host;
    if (port != 443)
        header += ":" + std::to_string(port);
    return header;
}

std::optional<api_endpoint> parse_api_url(std::string_view text, std::string& why)
{
    auto parsed = boost::urls::parse_absolute_uri(text);
    if (!parsed)
    {
        why = "'" + std::string(text) + "' is not a URL (" + parsed.error().message() + "); expected https://host[:port]";
        return std::nullopt;
    }
    const auto& url = *parsed;
    if (url.scheme_id() != boost::urls::scheme::https)
    {
        why = "the scheme '" + std::string(url.scheme()) +
              "' is not supported; the API is only spoken over TLS: use https://";
        return std::nullopt;
    }
    if (!url.has_authority() || url.encoded_host().empty())
    {
        why = "'" + std::string(text) + "' names no host";
        return std::nullopt;
    }
    if (url.has_userinfo())
    {
        why = "credentials in the API URL are not supported";
        return std::nullopt;
    }
    if (url.has_query() || url.has_fragment())
    {
        why = "the API URL must not have a query or a fragment";
        return std::nullopt;
    }

    api_endpoint endpoint;
    switch (url.host_type())
    {
    case boost::urls::host_type::ipv4:
        endpoint.host = url.host_ipv4_address().to_string();
        endpoint.host_is_ip = true;
        break;
    case boost::urls::host_type::ipv6:
        endpoint.host = url.host_ipv6_address().to_string();
        endpoint.host_is_ip = true;
        break;
    case boost::urls::host_type::name:
        endpoint.host = url.host_name();
        // Percent-decoded, a name could hide a NUL (which would cut the name that TLS checks
        // short of the one resolved) or a line break (which would end the Host header early).
        if (!std::all_of(endpoint.host.begin(), endpoint.host.end(), [](unsigned char c) {
                return std::isalnum(c) || c == '-' || c == '.' || c == '_';
            }))
        {
            why = "the host name of '" + std::string(text) +
                  "' has characters no host name has (only letters, digits, '-', '.' and '_')";
            return std::nullopt;
        }
        break;
    default:
        why = "the host of '" + std::string(text) + "' is not supported";
        return std::nullopt;
    }
    if (url.has_port())
    {
        // Boost.URL takes the digits of the port and leaves a sign or letters after them to the
        // path (`:-1` is port "" and path "-1"), and keeps 99999 modulo 65536: the port is
        // checked here, and named as it was written.
        std::string written(url.port());
        std::string_view path = url.encoded_path();
        if (!path.empty() && path.front() != '/')
            written += path.substr(0, path.find('/'));
        unsigned long port = 0;
        auto [end, failure] = std::from_chars(written.data(), written.data() + written.size(), port);
        if (written.empty() || failure != std::errc{} || end != written.data() + written.size() || port == 0 ||
            port > 65535)
        {
            why = "the port '" + written + "' is not a port number from 1 to 65535";
            return std::nullopt;
        }
        endpoint.port = static_cast<std::uint16_t>(port);
    }
    endpoint.base_path = url.encoded_path();
    while (!endpoint.base_path.empty() && endpoint.base_path.back() == '/')
        endpoint.base_path.pop_back();
    return endpoint;
}

std::string rates_target(const api_endpoint& endpoint, currency_code base, const rates_query& query)
{
    // Written out, not built with Boost.URL (2,600 instructions a request): the path is encoded
    // already, and every value is letters, digits, '-' or ',', which a query carries as they are.
    std::string target;
    target.reserve(endpoint.base_path.size() + 32 + query.symbols.size() * 4);
    target.append(endpoint.base_path).append("/rates?base=").append(base.view());
    for (std::size_t i = 0; i < query.symbols.size(); ++i)
        target.append(i == 0 ? "&symbols=" : ",").append(query.symbols[i].view());
    if (query.date)
        target.append("&date=").append(to_iso_string(*query.date));
    return target;
}

std::string currencies_target(const api_endpoint& endpoint)
{
    return endpoint.base_path + "/currencies";
}

} // namespace fxrates::detail

namespace fxrates {

std::string describe_bad_api_url(std::string_view url)
{
    std::string why;
    if (detail::parse_api_url(url, why))
        return {};
    return why;
}

} // namespace fxrates
