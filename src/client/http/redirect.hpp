#pragma once

// Following redirects, sans-io: where a `Location` leads from the URL that answered, and the chain
// of URLs one request went through (for the hop limit, loops and messages).

#include <fxrates/error.hpp>

#include "client/http/origin.hpp"
#include "client/http/request_fields.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace fxrates::detail {

/// An absolute http(s) URL split as the transport needs it.
struct http_location
{
    detail::origin origin;
    std::string target = "/"; ///< path and query, percent-encoded, no fragment

    std::string url() const
    {
        std::string out;
        out.reserve(origin.scheme.size() + 3 + origin.host.size() + 8 + target.size());
        out.append(origin.scheme).append("://");
        origin.append_host_header(out);
        return out.append(target);
    }
};

/// Whether `status` is a redirect that fxrates follows (301, 302, 303, 307, 308).
constexpr bool is_followed_redirect(unsigned status) noexcept
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/// Parses an absolute `http://` or `https://` URL; on failure says why in `why`.
error_code parse_http_location(std::string_view url, http_location& out, std::string& why);

/// Where the `Location` field `field` of an answer from `from` leads (relative references are
/// resolved against `from`, the fragment is dropped). Errors: `errc::bad_redirect` (no usable URL,
/// another scheme), `errc::insecure_redirect` (https to http); `why` says what was wrong.
error_code resolve_redirect(const http_location& from, std::string_view field, http_location& to, std::string& why);

/// The caller's fields to send to `to` on a request that began at `first`: all of them there, and
/// elsewhere all but the credentials (`Authorization`, `Proxy-Authorization`, `Cookie`), which
/// were meant for `first` alone: a redirect must not hand a caller's token to another host (as
/// curl and browsers do). Origins compare by scheme, host and port.
request_fields fields_for_hop(const request_fields& caller, const origin& first, const origin& to);

/// The URLs one request visited, in order.
class redirect_chain
{
public:
    explicit redirect_chain(std::string first) { urls_.push_back(std::move(first)); }

    bool contains(const std::string& url) const;
    void add(std::string url) { urls_.push_back(std::move(url)); }
    std::size_t hops() const noexcept { return urls_.size() - 1; }

    /// "a -> b -> c", with `next` at the end if given.
    std::string text(const std::string& next = {}) const;

private:
    std::vector<std::string> urls_;
};

} // namespace fxrates::detail
