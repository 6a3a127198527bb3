#pragma once

#include <fxrates/currency.hpp>
#include <fxrates/diagnostics.hpp>
#include <fxrates/error.hpp>
#include <fxrates/rates.hpp>
#include <fxrates/rates_query.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace fxrates {

/// Decodes the body of a `GET /rates` answer into `out`.
///
/// Tolerant as the API contract asks: keys in any order, numbers written as integers, decimals or
/// with exponents, unknown keys ignored. A field or a rate given twice is refused: which one the
/// server meant would be a guess. Never throws on bad input: returns `errc::bad_response`
/// and explains what was wrong in `diag.client_message()`. `out` is unspecified on failure.
error_code decode_rates(std::string_view body, rates& out, diagnostics& diag);

/// Checks that decoded rates answer the question asked: the `base` is the one asked for and the
/// `date` is no later than the day asked for (when one was). A server or cache that ignores the
/// query string fails here instead of printing another base's numbers: `errc::bad_response`,
/// explained in `diag`. With `symbols` asked, rates for other codes (a server that ignores only
/// `symbols`: its numbers are still right) are dropped from `answer`.
error_code check_rates_answer(rates& answer, currency_code base, const rates_query& query, diagnostics& diag);

/// One entry of `GET /currencies`.
struct currency_info
{
    currency_code code;
    std::string name;
    std::string symbol;
    std::string numeric_code;
    int decimal_places = 2;

    friend bool operator==(const currency_info&, const currency_info&) = default;
};

/// The answer of `GET /currencies`, in the server's order.
using currency_list = std::vector<currency_info>;

/// Decodes the body of a `GET /currencies` answer; see `decode_rates` for the error contract.
error_code decode_currencies(std::string_view body, currency_list& out, diagnostics& diag);

/// The error text of an API error body: `detail`, `error` or `message` as a string, or the `msg`
/// fields of a validation error's nested list (HTTP 422). Empty if the body is not such JSON
/// (e.g. a proxy's HTML page). The text is untrusted; it is returned as sent, at most 512 bytes.
std::string extract_error_message(std::string_view body);

} // namespace fxrates
