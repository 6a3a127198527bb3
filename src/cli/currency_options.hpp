#pragma once

#include <fxrates/currency.hpp>

#include <optional>
#include <string>
#include <vector>

namespace fxrates::cli {

/// Currency codes typed on the command line. Lower case is accepted and upper-cased, since the
/// API itself is case-sensitive and `usd` is clearly meant as USD; anything else that is not three
/// letters is a usage error, printed to stderr naming the command, the option and the bad input.
std::optional<std::vector<currency_code>> read_currency_codes(const std::vector<std::string>& texts,
                                                              const char* command, const char* option);

} // namespace fxrates::cli
