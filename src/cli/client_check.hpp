#pragma once

#include <fxrates/client_params.hpp>

#include <string>

namespace fxrates::cli {

/// Empty if a client can be made with `params`, else why not (a CA file that holds no
/// certificate, say). Checked before any strategy runs, so that a setting that would fail every
/// request is said once, rather than once per base and thread. The system's trust store is not
/// loaded for this (it takes tens of milliseconds): only a CA the user gave is checked.
std::string describe_bad_client_setup(const client_params& params);

} // namespace fxrates::cli
