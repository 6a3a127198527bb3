#pragma once

// `fxrates fetch --field /json/pointer`: instead of each whole answer, one line per item with the
// values the pointers (RFC 6901) select, separated by tabs, so that a shell loop or `cut` can read
// them. Each item must stay one line whatever the server sent.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fxrates::cli::fetch {

/// The deepest nesting of arrays and objects accepted in an answer: deeper documents are refused
/// rather than parsed, as they are either hostile or not what a rates API returns.
inline constexpr std::size_t max_json_depth = 64;

/// Empty if `pointer` is an RFC 6901 JSON pointer (empty for the whole document, else starting
/// with `/`, with `~` only in `~0` and `~1`), else why not, naming it. For checking `--field`
/// before anything is fetched.
std::optional<std::string> check_pointer(std::string_view pointer);

/**
 * Sets `line` to the values `pointers` select in the JSON document `body`, joined by tabs, without
 * a newline.
 *
 * Strings are printed raw, but with backslashes doubled and tabs, newlines and other control or
 * invisible characters escaped (`\t`, `\n`, `\x01`, `\u202e`), so that the line stays one line of
 * tab-separated fields and can be decoded unambiguously. Numbers are printed as the server wrote
 * them, digit for digit (no double in between); booleans and null as JSON; objects and arrays as
 * compact JSON.
 *
 * The answer is read as a stream of parser events (SAX), never built as a document: memory is
 * the selected values, not a multiple of the body.
 *
 * Returns false with `why` set ("the answer is not JSON (...)", "no field /results/0/lat in the
 * answer") if `body` is not JSON, is nested deeper than `max_json_depth`, lacks a field, or gives
 * a key along a pointer's path twice in one object (which of the two is meant cannot be told).
 * The pointers must have passed `check_pointer`.
 */
bool extract_fields(std::string_view body, const std::vector<std::string>& pointers, std::string& line,
                    std::string& why);

} // namespace fxrates::cli::fetch
