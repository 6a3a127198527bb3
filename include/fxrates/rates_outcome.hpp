#pragma once

#include <fxrates/currency.hpp>
#include <fxrates/diagnostics.hpp>
#include <fxrates/error.hpp>
#include <fxrates/rates.hpp>
#include <fxrates/request_timing.hpp>

namespace fxrates {

/// What became of one base currency in a batch: its rates, or the error that stopped it.
struct rates_outcome
{
    /// The base currency asked for.
    currency_code base;

    /// Success when empty; then `value` holds the rates.
    error_code error;

    /// Why it failed, when it did: our explanation and the server's (untrusted) text.
    diagnostics diag;

    /// The rates, when `error` is empty.
    rates value;

    /// When each phase of the request happened (of the last attempt).
    request_timing timing;

    /// Requests sent for this base: 1, or more after retries (0 if it never got that far).
    unsigned attempts = 0;

    bool ok() const noexcept { return !error; }
};

} // namespace fxrates
