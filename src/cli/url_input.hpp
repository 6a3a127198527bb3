#pragma once

// The URL lists that `fetch` and `compare --urls` read: URLs given as arguments, a list (`URL` or
// `URL FILE` a line), or a template filled from a values file, read one line at a time through the
// sans-io parsers of cli/fetch/url_list.hpp, from a file, a pipe or stdin ("-"). Nothing here holds
// a whole list: `url_reader` gives one item at a time, so that a list of millions streams.

#include "cli/fetch/line_reader.hpp"
#include "cli/fetch/unique_fd.hpp"
#include "cli/fetch/url_list.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fxrates::cli {

/// Where a run's URLs come from; read in this order.
struct url_sources
{
    std::vector<std::string> urls; ///< given as arguments
    std::string list_path;         ///< a URL list ("-": stdin), empty if none
    const char* list_flag = "-i";  ///< the list's flag, for messages
    std::string url_template;      ///< with `values_path`: a template with {}
    std::string values_path;       ///< the template's values ("-": stdin)
};

/// Reads the items of `url_sources` one at a time.
class url_reader
{
public:
    enum class result
    {
        item,     ///< the next item was read
        bad_line, ///< a line is not a usable item; `why` says which and why; reading can go on
        end,      ///< no more items
        failed,   ///< an input cannot be opened or read; `why` says which; nothing more comes
        stopped,  ///< `stop_fd` became readable while a read waited; nothing more comes
    };

    /// The longest line read: longer is a bad line (no server takes such a URL).
    static constexpr std::size_t max_line = 64 * 1024;

    /// With `stop_fd` (not owned; -1: none), a read that waits for a slow pipe ends once `stop_fd`
    /// is readable, so that another thread can stop this reader.
    explicit url_reader(url_sources sources, int stop_fd = -1);

    /// The next item, or what stopped it.
    result next(fetch::list_item& item, std::string& why);

    /// Every input is an argument or a regular file, so that another reader can read it all again
    /// (to check a list before anything is sent). Stdin, pipes and FIFOs can be read only once.
    bool rereadable() const;

private:
    enum class stage
    {
        arguments,
        list,
        values,
        done,
    };

    bool open(const std::string& path, const char* what, std::string& why);
    const char* flag() const { return stage_ == stage::list ? sources_.list_flag : "--values"; }
    std::string path_name(const std::string& path) const { return path == "-" ? "(stdin)" : path; }

    url_sources sources_;
    int stop_fd_;
    stage stage_ = stage::arguments;
    std::size_t argument_ = 0;
    fetch::unique_fd file_; // none for stdin
    std::optional<fetch::line_reader> in_;
    std::size_t line_number_ = 0;
    std::string line_;
};

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
