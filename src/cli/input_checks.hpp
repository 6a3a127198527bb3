#pragma once

#include <CLI/App.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fxrates::cli {

/// The numbers an option takes. CLI11's own `CLI::Range` lets NaN through (every comparison with
/// it is false), and NaN or infinity then reaches a conversion to an integer or a duration, which
/// is undefined behaviour; this range takes finite numbers only.
struct number_range
{
    double min = 0;
    double max = 0;
    bool min_excluded = false; ///< (min, max] instead of [min, max]; `what` then says so ("a positive number")
    std::string_view what = "a number";
};

/// Empty if `text` is all of one finite number within `range`, else why not, naming the range:
/// `'nan' is not a number from 0.001 to 3600`.
std::string check_number(const std::string& text, const number_range& range);

/// The CLI11 check for an option that takes a number of `range`; CLI11 puts the option's name in front.
CLI::Validator finite_number(const number_range& range);

/// `seconds` as a steady_clock duration; nullopt when not finite or too large for one, so that no
/// float-to-integer conversion overflows.
std::optional<std::chrono::steady_clock::duration> to_duration(double seconds);

/// Empty if `path` names a regular file (after symbolic links) that can be read, else why not. A
/// FIFO or a device would block or never end, so neither is taken.
std::string check_regular_file(const std::string& path);

/// The CLI11 check for an option naming a file to read (`--cacert`).
CLI::Validator regular_file();

/// The CLI11 check for an option whose value may not be empty (`--date ''` is no date).
CLI::Validator not_empty(std::string_view what);

/// Splits a comma-separated list as typed. An empty element (`USD,,EUR`, a trailing comma) or an
/// empty list (`,`) is refused, not skipped: the error names the option's value as written.
/// Returns the elements, or nullopt with `why` set.
std::optional<std::vector<std::string>> split_list(const std::string& text, std::string& why);

} // namespace fxrates::cli
