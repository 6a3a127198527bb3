#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace fxrates {

/// Reads the fields of a strict `YYYY-MM-DD` string (four, two and two ASCII digits). The result
/// may still not be a calendar date (`2024-02-30`): check `ok()`, or use `parse_iso_date`.
std::optional<std::chrono::year_month_day> parse_iso_date_fields(std::string_view text) noexcept;

/// Parses a strict `YYYY-MM-DD` string that names a real calendar date.
std::optional<std::chrono::year_month_day> parse_iso_date(std::string_view text) noexcept;

/// Formats a date as `YYYY-MM-DD`.
std::string to_iso_string(std::chrono::year_month_day date);

} // namespace fxrates
