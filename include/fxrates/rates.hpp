#pragma once

#include <fxrates/currency.hpp>

#include <boost/container/flat_map.hpp>

#include <chrono>

namespace fxrates {

/// Exchange rates for one base currency on one day: how many units of each code one unit of
/// `base` buys.
struct rates
{
    /// The day the rates are for; the API answers the latest business day on or before the one
    /// asked for, so this may differ from the requested date.
    std::chrono::year_month_day date{};

    /// The base currency, as the API echoed it.
    currency_code base;

    /// Code -> units of that currency per 1 `base`, sorted by code. A code the API had no value
    /// for is absent. A flat map: one allocation for the ~33 rates of an answer, not one each.
    boost::container::flat_map<currency_code, double> values;

    friend bool operator==(const rates&, const rates&) = default;
};

} // namespace fxrates
