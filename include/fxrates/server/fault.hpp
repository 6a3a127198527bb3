#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace fxrates {

/// Ways the look-alike server can misbehave on purpose, for tests and demos of the client's
/// reliability. Off unless asked for.
enum class fault
{
    http_500,       ///< `500` with a JSON detail
    http_503,       ///< `503` with Retry-After: 1
    http_429,       ///< `429` with Retry-After in seconds
    http_429_date,  ///< `429` with Retry-After as an HTTP date
    http_429_bare,  ///< `429` without Retry-After
    reset,          ///< the connection is reset before any answer
    reset_mid_body, ///< the connection is reset half way through the body
    short_body,     ///< the body is shorter than its Content-Length, then the connection closes
    stall,          ///< no answer, ever (until the client gives up)
    drip,           ///< the answer, one byte every 100 ms
    bad_json,       ///< a 200 whose body is not JSON
    missing_rates,  ///< a 200 whose JSON has no `rates`
    rates_string,   ///< a 200 whose `rates` is a string
    huge_body,      ///< a 200 with a 50 MB body
    html_page,      ///< a 502 with an HTML page, as a proxy sends
    tls_truncate,   ///< the answer, then the TCP connection closed without TLS close_notify

    // What real HTTP/1.1 servers, proxies and CDNs send, which a client must handle or refuse.

    http_100_continue,    ///< `HTTP/1.1 100 Continue` as an interim answer, then the answer
    http_103_early_hints, ///< `HTTP/1.1 103 Early Hints` with a `Link` field, then the answer
    /// `301` with `Location: /redirected<target>`, a relative reference to the same answer (the
    /// server serves any path under `/redirected/` as the path without that prefix); keep-alive
    redirect_301,
    redirect_302,      ///< as `redirect_301`, with `302 Found`
    redirect_303,      ///< as `redirect_301`, with `303 See Other`
    redirect_307,      ///< as `redirect_301`, with `307 Temporary Redirect`
    redirect_308,      ///< as `redirect_301`, with `308 Permanent Redirect`
    redirect_absolute, ///< `302` to `https://<the request's Host>/redirected<target>`
    redirect_loop,     ///< `302` whose `Location` is the request's own target
    redirect_http,     ///< `302` to `http://<the request's Host>/redirected<target>`: a client must refuse
    gzip,              ///< the answer gzip-compressed (`Content-Encoding: gzip`) though not asked for
    gzip_bomb,         ///< a `200` with `Content-Encoding: gzip` whose body inflates to 64 MiB of zeros
    /// the answer as `HTTP/1.0` without Content-Length or Connection, its body ended by closing the
    /// connection (with TLS close_notify)
    http10_close,
    /// as `http10_close`, but the connection is closed half way through the body, without TLS
    /// close_notify: over https a client must report the body cut, not take it whole
    http10_cut,
    big_header,   ///< the answer with about 12 KiB of extra header fields (`X-Padding-1` to `-12`)
    lf_only,      ///< the answer with every line of its head ended by LF alone
    no_reason,    ///< the answer with a status line without reason phrase: `HTTP/1.1 200`
    ignore_query, ///< the answer for `base=USD` (same date, symbols), as a cache that ignores the query
    /// a chunked answer whose last chunk is followed by trailer fields forever, ~1 KiB at a time,
    /// until the client closes or the request timeout passes
    endless_trailers,
    /// a chunked answer whose first chunk-size line is `1;` and then extension bytes forever, until
    /// the client closes or the request timeout passes
    endless_chunk_ext,
    /// what an HTTP/2-only server sends: a SETTINGS frame, a GOAWAY frame (PROTOCOL_ERROR), and
    /// TLS close_notify
    http2_only,
};

/// The command-line name of a fault, e.g. `500`, `reset-mid-body`, `redirect-loop`.
std::string_view to_string(fault kind) noexcept;

/// Every fault, for help texts and tests.
const std::vector<fault>& all_faults();

/// Which faults to inject and how often: `KIND:P` entries (P in [0, 1]), drawn per request from
/// a seeded generator so that a run can be repeated. Sans-io; not thread-safe.
class fault_plan
{
public:
    /// Parses `KIND:P` (e.g. `500:0.3`, `stall:0.05`); throws `std::invalid_argument` naming the bad
    /// entry and the known kinds.
    void add(std::string_view spec);

    void add(fault kind, double probability);

    void seed(std::uint64_t value) { random_.seed(value); }

    bool empty() const noexcept { return entries_.empty(); }

    /// The fault for the next request, if any: at most one, with the entries' probabilities
    /// (their sum is capped at 1).
    std::optional<fault> draw();

private:
    struct entry
    {
        fault kind;
        double probability;
    };
    std::vector<entry> entries_;
    std::mt19937_64 random_{0x5eed};
};

} // namespace fxrates
