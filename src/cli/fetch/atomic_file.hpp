#pragma once

// Output files of `fxrates fetch -o DIR`: each appears whole or not at all (never a truncated file
// under its final name), never replaces an existing file unless asked, and never lands outside DIR,
// even when DIR holds symbolic links planted by someone else.

#include "cli/fetch/unique_fd.hpp"

#include <cstdint>
#include <functional>
#include <utility>
#include <optional>
#include <string>
#include <string_view>

namespace fxrates::cli::fetch {

/// Opens the output folder `path` (creating it and its parents when `create` is set), as the
/// root that all output names are resolved under. An invalid descriptor with `why` set on failure.
/// `path` itself may be a symbolic link: the user named it; only names below it are confined.
unique_fd open_output_dir(const std::string& path, bool create, std::string& why);

/// Whether something (a file, a folder, a symbolic link) is already at `name` below `root`, for the
/// "keep the existing file" decision before fetching. Looks through no symbolic link on the way.
/// nullopt with `why` set if that cannot be told (a folder on the way is a link or unreadable).
/// This check races with other writers; `atomic_file::commit` is what guarantees no replacement.
std::optional<bool> file_exists(int root, std::string_view name, std::string& why);

/// What `inspect_file` finds at a name.
struct existing_file
{
    bool exists = false;    ///< something is there
    bool regular = false;   ///< a regular file (not a link, folder or other)
    std::uint64_t size = 0; ///< its size, when regular
    std::int64_t mtime_ns = 0; ///< when it was last written, in ns since the epoch (when regular)
    std::uint64_t device = 0;  ///< with `inode`: which file it is, whatever its name
    std::uint64_t inode = 0;
};

/// `file_exists`, with the size of a regular file (for `--refresh`'s "did it change" check).
std::optional<existing_file> inspect_file(int root, std::string_view name, std::string& why);

/**
 * One output file being written: a hidden temporary file (`.NAME.fxrates-XXXXXX`) in the folder
 * of its final name, renamed into place by `commit`; or, for a download a later run may continue,
 * a hidden partial file of a fixed name (`open_partial`).
 *
 * Names are relative, `/`-separated and already confined (see output_names.hpp); as a second line
 * of defence `open` still refuses any name that `check_confined` refuses. Each folder
 * on the way is created if missing and opened with O_NOFOLLOW, so a symbolic link inside the
 * output folder can never lead the file out of it.
 *
 * Errors are sentences naming the file, with the system's reason; an empty string is success.
 * A file not committed is removed by the destructor. Move-only; no thread safety.
 */
class atomic_file
{
public:
    atomic_file() = default;
    atomic_file(atomic_file&& other) noexcept { *this = std::move(other); }
    atomic_file& operator=(atomic_file&& other) noexcept;
    ~atomic_file();

    /// Creates the folders of `name` below `root` and the temporary file (mode 0644 less the
    /// umask). `root` must stay open while this object is used.
    std::string open(int root, std::string_view name);

    /// Appends `data`, retrying short and interrupted writes.
    std::string write(std::string_view data);

    /// Empties the file: a retry starts the answer over.
    std::string reset() { return truncate(0); }

    /// Cuts the file to its first `size` bytes (what a resumed answer continues from).
    std::string truncate(std::uint64_t size);

    /// Opens `name` as a download that a later run can continue (`fetch --continue`): the file is
    /// `.LEAF.fxrates-partial` beside the final name, so that the next run finds it, with
    /// `.LEAF.fxrates-partial.json` beside it holding `note` (what it came from). Created empty; or,
    /// with `keep`, an existing one is opened to append to what it holds (`size()` is then its
    /// size), and `note` is left as it is. `commit` puts it in place and removes the note.
    ///
    /// The partial file is locked (flock) while open: when another process holds it, or when the
    /// name is too long for a partial name of its own (a cut name could be another file's), this
    /// returns `partial_unavailable` and opens nothing; the caller then uses `open`.
    std::string open_partial(int root, std::string_view name, bool keep, std::string_view note = {});

    /// What `open_partial` returns when this name cannot have a partial file now.
    static inline const std::string partial_unavailable = "the partial file is in use or cannot be named";

    /// Replaces the note of a partial file (the answer changed: another validator).
    std::string write_note(std::string_view note);

    /// The note of `name`'s partial file below `root`, if there is one and it is a regular file of
    /// at most 64 KiB (it is read as untrusted).
    static std::optional<std::string> read_note(int root, std::string_view name);

    /// Whether this is a partial file (from `open_partial`).
    bool partial() const noexcept { return partial_; }

    /// Leaves a partial file where it is for a later run, closed; the destructor no longer removes
    /// it. A temporary file is discarded instead. Idempotent.
    void keep() noexcept;

    /// Reads back the first `size` bytes written, in pieces, to `take` (to hash what a resumed
    /// download held before).
    std::string read_back(std::uint64_t size, const std::function<void(std::string_view)>& take) const;

    /// Gives the file its final name. Without `overwrite` an existing file (or link, or folder) of
    /// that name is never replaced, atomically (RENAME_NOREPLACE, or link and unlink where the file
    /// system lacks it): no window between a check and the rename. `sync` flushes the file and the
    /// folder to disk first, for crash safety at the cost of speed.
    std::string commit(bool overwrite, bool sync = false);

    /// Removes the temporary file, if any. Idempotent.
    void discard() noexcept;

    /// The final name, as given to `open`.
    const std::string& name() const noexcept { return name_; }

    /// Bytes written since `open` or the last `reset`.
    std::uint64_t size() const noexcept { return size_; }

    /// The file's modification time as committed, in ns since the epoch; 0 if unknown. Read from
    /// the open file before its rename (a rename does not change it): no lookup by name after.
    std::int64_t committed_mtime_ns() const noexcept { return committed_mtime_ns_; }

private:
    // Forgets any file of before and opens (creating them) the folders of `name` below `root`.
    std::string place(int root, std::string_view name);
    std::string failure(std::string_view what, int error) const;

    std::string name_;      // the final name, relative to the root
    std::string leaf_;      // its last component
    std::string temporary_; // the temporary file's name in `folder_`
    unique_fd owned_folder_; // the folder of the final name, when it is below the root
    int folder_ = -1;        // the folder of the final name: the root (borrowed) or owned_folder_
    unique_fd file_;
    std::uint64_t size_ = 0;
    std::int64_t committed_mtime_ns_ = 0;
    bool partial_ = false;
};

} // namespace fxrates::cli::fetch
