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
};

/// The command-line name of a fault, e.g. `500`, `reset-mid-body`.
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
