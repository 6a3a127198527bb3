#pragma once

// The input of `fxrates fetch`: a list of URLs (one a line, optionally "URL FILE" as a crawler
// writes them), or a URL template with `{}` and a list of values. Everything here works one line
// at a time, so that a list of a million lines can be read as a stream and never held whole.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace fxrates::cli::fetch {

/// One URL to fetch, with where it came from.
struct list_item
{
    std::size_t line = 0; ///< 1-based line of the list or values file, for messages
    std::string url;      ///< absolute http:// or https:// URL, as written (already percent-encoded)
    std::string file;     ///< the FILE of a "URL FILE" line, taken literally (not decoded); empty if none
    std::string value;    ///< the template value this URL was made from; empty if none
};

/// What one input line is.
enum class line_kind
{
    skip,  ///< blank or a `#` comment
    item,  ///< `item` holds the entry
    error, ///< `error` says what is wrong, starting with "line N: "
};

/// The result of reading one line.
struct parsed_line
{
    line_kind kind = line_kind::skip;
    list_item item;
    std::string error;
};

/// Empty if `url` is an absolute http:// or https:// URL with a host and nothing a URL may not hold
/// (controls, spaces, non-ASCII), else why not, as a parenthesis-free reason ("its scheme is htp").
std::optional<std::string> check_url(std::string_view url);

/// Reads one line of a URL list: `URL` or `URL FILE`, separated by spaces or tabs. Surrounding
/// white space and a CR left by CRLF files are ignored; blank lines and `#` comments are skipped.
/// A third field is refused rather than ignored: it is almost always a URL with an unencoded space.
parsed_line parse_list_line(std::string_view text, std::size_t line_number);

/// Reads one line of a values file (for a template): trimmed, blank and `#` lines skipped, inner
/// spaces kept (`New York` is one value). The value is in `item.value`; `item.url` stays empty.
/// Control characters and bytes that are not UTF-8 are refused: a value also names files.
parsed_line parse_value_line(std::string_view text, std::size_t line_number);

/// `value` percent-encoded as a URL component: every byte but the unreserved ones (letters,
/// digits, `-._~`) becomes %XX, so that the value is data wherever it lands (host, path, query)
/// and can never add a path segment, a query parameter or a fragment. A value of "." or ".." has
/// its dots encoded too (%2E): as a path segment it would otherwise be removed with its parent.
std::string percent_encode(std::string_view value);

/// `pattern` with every `{}` replaced by `percent_encode(value)`.
std::string fill_template(std::string_view pattern, std::string_view value);

/// Empty if `pattern` is a usable URL template: it has a `{}`, and filled with a sample value it
/// is an http:// or https:// URL (checked up front, so that a bad template fails before any
/// value is read). Else why not, naming the template.
std::optional<std::string> check_template(std::string_view pattern);

/// The item for one value of a values file: `values_line` is what `parse_value_line` returned; a
/// skip or an error passes through. The filled URL is checked again before it goes to the network,
/// although `check_template` and the encoding should already make it valid.
parsed_line template_item(std::string_view pattern, parsed_line values_line);

} // namespace fxrates::cli::fetch
