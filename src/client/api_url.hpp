#pragma once

#include <fxrates/currency.hpp>
#include <fxrates/rates_query.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fxrates::detail {

/// Where the API lives: the parts of `client_params::api_url` the transport needs.
struct api_endpoint
{
    std::string host;      // without brackets for IPv6
    std::uint16_t port = 443;
    std::string base_path; // "" or "/v1", never ending in '/'
    bool host_is_ip = false;

    /// The Host header value: host, bracketed if IPv6, with the port unless it is 443.
    std::string host_header() const;
};

/// Parses an `https://host[:port][/path]` URL. On failure returns empty and says why in `why`.
std::optional<api_endpoint> parse_api_url(std::string_view url, std::string& why);

/// The request target for `GET /rates` with the query percent-encoded.
std::string rates_target(const api_endpoint& endpoint, currency_code base, const rates_query& query);

/// The request target for `GET /currencies`.
std::string currencies_target(const api_endpoint& endpoint);

} // namespace fxrates::detail
