#pragma once

// The URL lists that `fetch` and `compare --urls` read: a list (`URL` or `URL FILE` a line) or a
// template filled from a values file, read one line at a time through the sans-io parsers of
// cli/fetch/url_list.hpp, from a file, a pipe or stdin ("-").

#include "cli/fetch/url_list.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace fxrates::cli {

/// Appends the items of the list at `path` (named `what` in messages, e.g. "-i") to `items`; false,
/// having said why as `fxrates COMMAND: ...` (with the line number), at the first bad line, or past
/// `max_items` items in all.
bool read_url_list(std::string_view command, const std::string& path, const char* what, std::size_t max_items,
                   std::vector<fetch::list_item>& items);

/// Appends an item for each value of the values file at `values_path`, `url_template` filled with
/// it; false, having said why, for a bad template or line, or past `max_items`.
bool read_template_values(std::string_view command, const std::string& url_template, const std::string& values_path,
                          std::size_t max_items, std::vector<fetch::list_item>& items);

} // namespace fxrates::cli
