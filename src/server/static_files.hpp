#pragma once

#include "server/resource.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fxrates::detail {

/// The components of a request path (without query), each percent-decoded; nothing if the path
/// is not one the files may be looked up by: not starting with `/` (an absolute URI, `*`), or with
/// a `.` or `..` component (as sent or encoded, `%2e%2e`), an encoded `/` or `\` inside a component
/// (`..%2f`), a `\`, a NUL (as sent or `%00`), or a malformed escape. Empty components (`a//b`) are
/// skipped. Pure.
std::optional<std::vector<std::string>> path_components(std::string_view path);

/// The Content-Type of a file, by its extension (case-insensitive): html, css, js, json, txt, png,
/// jpg/jpeg, gif, svg, csv, pdf; anything else is `application/octet-stream`.
std::string_view content_type_for(std::string_view file_name) noexcept;

/// The files under a directory (`fxrates serve --root DIR`), looked up by request path.
///
/// A path is resolved one component at a time with `openat(..., O_NOFOLLOW)` from a descriptor of
/// the root opened at start: it cannot leave the root, by `..` or by a symbolic link (links are not
/// followed at all, even ones that stay inside), whatever is renamed meanwhile. Only regular files
/// are served; a directory serves its `index.html` if it has one, asked for with its slash (without,
/// the answer is 301 to it, as nginx and Apache do), and a file asked for with a slash is 404. Files are read piece by piece
/// with pread, on the caller's thread. Not thread-safe.
class static_files
{
public:
    /// Opens `root`; throws `std::runtime_error` naming it if it is not a directory that can be read.
    explicit static_files(const std::string& root);
    ~static_files();
    static_files(const static_files&) = delete;
    static_files& operator=(const static_files&) = delete;

    /// The file at `path` (without query), or 404.
    resource_lookup find(std::string_view path) const;

private:
    int root_fd_ = -1;
};

} // namespace fxrates::detail
