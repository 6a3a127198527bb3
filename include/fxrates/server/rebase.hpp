#pragma once

#include <fxrates/server/decimal.hpp>

namespace fxrates {

/// Decimal places of every rebased rate, as the API rounds them.
inline constexpr int rebased_rate_places = 6;

/// The rate of X against a new base, from both currencies' rates per 1 EUR:
/// `eur_rate_of_x / eur_rate_of_base`, rounded to 6 decimal places, half to even.
///
/// For EUR itself pass `decimal{1, 0}` as `eur_rate_of_x`. Precondition: `eur_rate_of_base` > 0.
inline decimal rebase_rate(decimal eur_rate_of_x, decimal eur_rate_of_base)
{
    return divide(eur_rate_of_x, eur_rate_of_base, rebased_rate_places);
}

} // namespace fxrates
