#pragma once

#include <chrono>
#include <cstdint>

namespace fxrates {

/// When each phase of one request happened, for timelines and traces. Phases that did not happen
/// (no throttle, a reused connection) hold the time point of the previous phase.
struct request_timing
{
    using time_point = std::chrono::steady_clock::time_point;

    time_point queued{};     ///< the request was handed to the client (or a strategy's queue)
    time_point granted{};    ///< the throttle let it go (same as `started` without a throttle)
    time_point started{};    ///< a connection, or room for a new one, was had: the waits are over
    time_point connected{};  ///< TCP connected (a reused connection: same as `started`)
    time_point tls_done{};   ///< TLS handshake done (a reused connection: same as `started`)
    time_point first_byte{}; ///< the answer's first bytes arrived
    time_point done{};       ///< the answer was read and decoded, or the request failed

    bool reused_connection = false;
    bool resumed_tls_session = false; ///< a new connection whose TLS handshake resumed an earlier session
    std::uint64_t thread_id = 0; ///< a number for the thread that ran the request
    int process_id = 0;          ///< the process that ran it
};

} // namespace fxrates
