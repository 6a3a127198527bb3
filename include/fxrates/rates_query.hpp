#pragma once

#include <fxrates/currency.hpp>

#include <chrono>
#include <optional>
#include <vector>

namespace fxrates {

/// What to ask the API about, besides the base currency.
struct rates_query
{
    /// Only these codes (empty: all the API has).
    std::vector<currency_code> symbols;

    /// The day (empty: the latest). The API answers the latest business day on or before it.
    std::optional<std::chrono::year_month_day> date;
};

} // namespace fxrates
