#pragma once

#include <fxrates/client_params.hpp>

#include <string>

namespace fxrates::cli {

/// Empty if the CA file the user gave (`--cacert`) can be loaded, else the whole complaint:
/// "--cacert FILE: why; what to do". Checked before any strategy runs, so that a file that would
/// fail every request is said once, rather than once per base and thread.
std::string describe_bad_ca_file(const client_params& params);

} // namespace fxrates::cli
