#pragma once

// How `fxrates fetch --loops N` shares the run's limits out among its event loops.

#include <fxrates/client_params.hpp>

#include <cstddef>
#include <vector>

namespace fxrates::cli::fetch {

/// Each loop's share of the run's limits: of `--concurrency` and of each host's `--per-host`
/// connections, so that the limits hold for the loops together; `--rate` and `--burst` are one
/// `shared_pace` that every loop's requests take their turns from. Never more loops than a host
/// may have connections: each loop needs at least one of each host's.
struct loop_shares
{
    std::size_t loops = 1;
    std::vector<client_params> params; ///< one per loop
};

/// Splits `params` over `loops` loops (`loops` already resolved: 0 means one per core elsewhere).
loop_shares share_limits(const client_params& params, std::size_t loops);

} // namespace fxrates::cli::fetch
