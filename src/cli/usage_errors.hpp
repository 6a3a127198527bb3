#pragma once

#include <CLI/App.hpp>

#include <string>
#include <string_view>

namespace fxrates::cli {

/// The word of `candidates` closest to `typed` (by edit distance), or empty when none is close
/// enough to be what was meant.
std::string closest(std::string_view typed, const std::vector<std::string>& candidates);

/// Reports a command line CLI11 refused, as one escaped line `fxrates [COMMAND]: MESSAGE` plus a
/// pointer to --help: an unknown command gets "did you mean rates?", an unknown option the closest
/// option of its command. Returns the exit code (0 for --help and --version, else 1).
int report_parse_error(const CLI::App& app, const CLI::ParseError& error, int argc, char** argv);

} // namespace fxrates::cli
