#pragma once

#include <fxrates/currency.hpp>
#include <fxrates/fetch_outcome.hpp>
#include <fxrates/rates_outcome.hpp>
#include <fxrates/utf8.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fxrates {

/// How `fxrates rates` writes its results.
enum class output_format
{
    /// The book's table, byte for byte: for people at a terminal.
    table,
    /// One JSON document with full-precision numbers and the errors: for scripts.
    json,
    /// One row per base with full-precision numbers: for spreadsheets and shell pipelines.
    csv,
    /// One JSON record per line, written as each base ends (in the order they end, each with its
    /// input `index`): for long batches and streaming consumers.
    ndjson,
};

/// Parses the name of a format as written on the command line: `table`, `json` or `csv`
/// (lower case, exactly); empty for anything else.
std::optional<output_format> parse_output_format(std::string_view name) noexcept;

/// The command-line name of `format`, the inverse of `parse_output_format`.
std::string_view to_string(output_format format) noexcept;

/// Formats `x` exactly as Python's `format(x, "7.03")`, which is how the book prints each rate.
///
/// Three significant digits, right-aligned in 7 columns, never truncated when longer (`1.11e+02`).
/// Python's default float presentation is `g`-like with two differences: fixed notation keeps at
/// least one digit after the point (`1.0`, `10.0`), and scientific notation starts one exponent
/// earlier, when the decimal exponent after rounding is >= 2 (`1e+02` for 99.96) or < -4 (`7e-05`).
/// Rounding is correct, ties to even, on the exact binary value (`1.125` gives `1.12`). Negative
/// zero keeps its sign; infinities print as `inf` and `-inf`, and every NaN as `nan`.
std::string format_seed_number(double x);

/// The book's table: one row per successful outcome, in the given order, then an empty line and
/// `time elapsed: 0.12s`.
///
/// A row is `1 USD = ` followed by, for each of `symbols`, the rate as `format_seed_number` and the
/// code, joined by `, `. The base's rate in its own row is 1.0 whatever the API sent, as the book
/// sets it. A symbol with no rate prints `    n/a` in the number's place. Failed outcomes print no
/// row: report them on stderr with `describe_failure`. Ends with a newline.
std::string render_table(std::span<const rates_outcome> outcomes, std::span<const currency_code> symbols,
                         double elapsed_seconds);

/// The version of the JSON `render_json` writes, as its top-level `"schema"` member; also the
/// version of the records `json_record` writes, for a streaming mode to name. Compatibility rule:
/// members may be added within a version; removing or renaming one, or changing what one means or
/// its type, bumps the number.
inline constexpr std::string_view rates_json_schema = "fxrates.rates/1";

/// One base as one JSON object, keys in a fixed order, without a trailing newline: the element
/// `render_json` writes for it, and what a streaming mode writes one per line.
///
/// Either `{"base":"USD","date":"2019-04-09","rates":{"USD":1.0,"EUR":0.886761}}` (keys of `rates`
/// in `symbols` order; symbols without a rate and repeated symbols left out; the base's own rate is
/// 1.0 as in the table) or, for a failure,
/// `{"base":"XXX","error":{"category":"fxrates.http","code":400,"message":"...","detail":"...",
/// "server_text":"..."}}`: the error code's category name, value and message, our explanation
/// (`diagnostics::client_message()`) and the server's own text (`diagnostics::server_message()`,
/// untrusted); `detail` and `server_text` are empty strings when absent.
///
/// Numbers are the shortest text that reads back as the same double, and always look like
/// floating-point numbers (`1.0`, never `1`) so consumers see one kind of number. A non-finite
/// number, which JSON cannot express, is written as `null`. Strings are escaped by Boost.JSON
/// (control characters as `\u001b`); bytes that are not valid UTF-8 become U+FFFD, so that the
/// text is always valid JSON.
std::string json_record(const rates_outcome& outcome, std::span<const currency_code> symbols);

/// One line of `--format ndjson`: `json_record` with the schema and the base's input index first,
/// `{"schema":"fxrates.rates/1","index":3,"base":"EUR",...}` and a newline.
std::string ndjson_line(std::size_t index, const rates_outcome& outcome, std::span<const currency_code> symbols);

/// A JSON document for scripts, keys in a fixed order, ending with a newline:
/// `{"schema":"fxrates.rates/1","results":[R...],"elapsed_seconds":0.12}`, one `json_record` R
/// per outcome in input order. The README documents it field by field.
std::string render_json(std::span<const rates_outcome> outcomes, std::span<const currency_code> symbols,
                        double elapsed_seconds);

/// CSV (RFC 4180 quoting, `\n` line ends): the header `base,date,` + the symbols + `,error`, then
/// one row per outcome in input order, ending with a newline.
///
/// Rates are written as in `render_json` (shortest round-trip, `1.0` for the base's own rate),
/// with an empty cell for a missing rate. A failure has empty date and rate cells, and its
/// `describe_failure` text without the leading `XXX: ` in the last column. There is no elapsed
/// time: every row is data.
std::string render_csv(std::span<const rates_outcome> outcomes, std::span<const currency_code> symbols,
                       double elapsed_seconds);

/// Renders in `format`; see `render_table`, `render_json` and `render_csv`.
std::string render(output_format format, std::span<const rates_outcome> outcomes,
                   std::span<const currency_code> symbols, double elapsed_seconds);

/// The version of the JSON `render_comparison_json` writes, as its top-level `"schema"` member;
/// same compatibility rule as `rates_json_schema`.
inline constexpr std::string_view compare_json_schema = "fxrates.compare/1";

/// What one strategy cost in `fxrates compare`: one row of its table.
struct comparison_row
{
    /// The strategy's command-line name (`async`, `thread-pool`, ...).
    std::string strategy;
    double wall_seconds = 0;
    /// User + system CPU of its process (and of its workers, for the process pool).
    double cpu_seconds = 0;
    std::size_t peak_threads = 0;
    long peak_rss_kib = 0;
    /// The sequential run's wall time over this one's; empty without a sequential run.
    std::optional<double> speedup;
    /// Requests made (one per base) and how many of them failed.
    std::size_t requests = 0;
    std::size_t failed = 0;
    /// Stopped by Ctrl-C under way: its figures are of a partial run.
    bool interrupted = false;
};

/// The comparison `fxrates compare` prints: where the requests went and one row per strategy.
struct comparison
{
    std::size_t requests_per_strategy = 0;
    /// The API asked, or empty for the built-in server.
    std::string api;
    /// The built-in server's latency per answer, in milliseconds (unused with `api`).
    double latency_ms = 0;
    std::vector<comparison_row> rows;
};

/// The table for people: `5 requests per strategy against the built-in server, 100 ms latency`,
/// an empty line, a header and one aligned row per strategy (`(some requests failed)` after a row
/// with failures). Ends with a newline.
std::string render_comparison_table(const comparison& table);

/// `{"schema":"fxrates.compare/1","requests_per_strategy":5,"api":null,"latency_ms":100.0,
/// "strategies":[{"strategy":"sequential","wall_seconds":0.51,"cpu_seconds":0.014,"peak_threads":1,
/// "peak_rss_kib":10956,"speedup":1.0,"requests":5,"failed":0},...]}` and a newline: numbers as in
/// `render_json`, `api` null for the built-in server and `latency_ms` null with an API, `speedup`
/// null without a sequential run.
std::string render_comparison_json(const comparison& table);

/// CSV: the header `strategy,wall_seconds,cpu_seconds,peak_threads,peak_rss_kib,speedup,requests,failed`
/// then one row per strategy, the same values as `render_comparison_json` (an empty `speedup`
/// cell without a sequential run).
std::string render_comparison_csv(const comparison& table);

/// Renders `table` in `format`.
std::string render_comparison(output_format format, const comparison& table);

/// One line (without a newline) for stderr saying why `outcome` failed, e.g.
/// `XXX: HTTP 400 Bad Request: the API rejected a parameter. Server says: "Base currency 'XXX' is
/// not supported."`
///
/// The error code's message, then `Details: ` and the client message if there is one, then the
/// server's message in double quotes if there is one. Because the server's text is untrusted (and
/// our own message may quote parts of it), control characters, C1 controls, Unicode bidi and line
/// separators, backslashes, double quotes and bytes that are not UTF-8 are shown as escapes (`\n`,
/// `\x1b`, `\u202e`, `\\`, `\"`): the line cannot move the cursor, recolour the terminal, reorder
/// what is shown, or forge another line.
std::string describe_failure(const rates_outcome& outcome);
/// The same for a URL of `compare --urls`: the URL (escaped), then why.
std::string describe_failure(const fetch_outcome& outcome);

// escape_untrusted, for text shown as describe_failure shows it, is in <fxrates/utf8.hpp>.

} // namespace fxrates
