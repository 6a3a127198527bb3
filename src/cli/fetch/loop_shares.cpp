#include "cli/fetch/loop_shares.hpp"

#include <fxrates/shared_pace.hpp>

#include <algorithm>
#include <memory>

namespace fxrates::cli::fetch {

namespace {

// Part `k` of `total` split `parts` ways, the remainder to the first parts.
std::size_t share(std::size_t total, std::size_t parts, std::size_t k)
{
    return total / parts + (k < total % parts ? 1 : 0);
}

} // namespace

loop_shares share_limits(const client_params& params, std::size_t loops)
{
    loop_shares shares;
    shares.loops = std::clamp<std::size_t>(
        loops, 1, std::min(params.max_connections, params.max_connections_per_origin));
    for (std::size_t k = 0; k < shares.loops; ++k)
    {
        client_params part = params;
        part.max_connections = share(params.max_connections, shares.loops, k);
        part.max_connections_per_origin = share(params.max_connections_per_origin, shares.loops, k);
        shares.params.push_back(std::move(part));
    }
    // One pace per host for all the loops, rather than a share of the rate each: a loop with
    // nothing for a host leaves its turns to the others, and a Retry-After one loop gets pauses
    // every loop's requests to that host.
    if (params.rate > 0 && shares.loops > 1)
    {
        auto pace = std::make_shared<shared_pace>(params.rate, params.burst);
        for (auto& part : shares.params)
            part.shared_pace = pace;
    }
    return shares;
}

} // namespace fxrates::cli::fetch
