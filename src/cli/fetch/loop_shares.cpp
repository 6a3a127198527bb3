#include "cli/fetch/loop_shares.hpp"

#include <algorithm>

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
        if (params.rate > 0)
        {
            part.rate = params.rate / static_cast<double>(shares.loops);
            if (params.burst > 0)
                part.burst = std::max(1.0, params.burst / static_cast<double>(shares.loops));
        }
        shares.params.push_back(std::move(part));
    }
    return shares;
}

} // namespace fxrates::cli::fetch
