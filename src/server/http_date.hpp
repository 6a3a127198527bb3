#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace fxrates::detail {

/// `seconds` (since the epoch, UTC) as an HTTP date: the IMF-fixdate of RFC 9110 5.6.7,
/// e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
std::string format_http_date(std::time_t seconds);

/// An HTTP date in any of the three formats a recipient must accept (RFC 9110 5.6.7): IMF-fixdate,
/// the obsolete RFC 850 form (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`).
/// Nothing if `text` is none of them or names no real instant (31 February, 25:00).
std::optional<std::time_t> parse_http_date(std::string_view text) noexcept;

} // namespace fxrates::detail
