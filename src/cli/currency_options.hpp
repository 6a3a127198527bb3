#pragma once

#include <fxrates/currency.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fxrates::cli {

/// Currency codes typed on the command line. Lower case is accepted and upper-cased, since the
/// API itself is case-sensitive and `usd` is clearly meant as USD; anything else that is not three
/// letters is a usage error, printed to stderr naming the command, the option and the bad input.
/// Each text is a comma-separated list as typed (the option may be given more than once); an
/// empty element or an empty list is refused, not skipped.
std::optional<std::vector<currency_code>> read_currency_codes(const std::vector<std::string>& texts,
                                                              std::string_view command, std::string_view option);

} // namespace fxrates::cli
