#pragma once

// `fxrates fetch --refresh`: the validators (ETag, Last-Modified) of the files an earlier run saved
// under -o DIR, kept in DIR/.fxrates-meta, so that a later run asks "changed since?" instead of
// fetching every file again. The metadata file sits in a folder others may write to, so every line
// is checked as untrusted input: a bad line is skipped (and counted), never fatal, and nothing in it
// can add a header to a request or name a file outside the folder.

#include "cli/fetch/name_hash_table.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fxrates::cli::fetch {

/// The metadata file's name in the output folder; no output file may take it.
inline constexpr std::string_view validators_file_name = ".fxrates-meta";

/// Whether a name under -o is one fetch uses for its own files: the validators file, a partial
/// file or its note (`.NAME.fxrates-partial[.json]`), a temporary file (`.NAME.fxrates-XXXXXX`).
/// No output file may take such a name: fetch would take it for its own, and remove or rename it.
bool is_internal_name(std::string_view name);

/// The longest ETag or Last-Modified kept: a longer one is not a validator worth sending back.
inline constexpr std::size_t max_validator_length = 1024;

/// What is known of one saved file.
struct validator_entry
{
    std::string file;          ///< relative to the output folder, as `check_confined` accepts it
    std::string url;           ///< the URL it was fetched from
    std::string etag;          ///< the answer's ETag, as sent (quotes included); empty if none
    std::string last_modified; ///< the answer's Last-Modified, as sent; empty if none
    std::uint64_t bytes = 0;   ///< the file's size when saved
    std::string sha256;        ///< its digest when it was computed (with --report); empty if not
    std::int64_t mtime_ns = 0; ///< the file's mtime once saved (ns since the epoch); 0 if unknown

    bool operator==(const validator_entry&) const = default;
};

/// Whether `value` can go back to a server as a header value: at most `max_validator_length`
/// bytes of printable ASCII (no CR, LF or other control character, which would split the request).
bool is_sendable_validator(std::string_view value);

/*
 * The metadata file's format: one JSON object a line, `{"file":...,"url":...,"etag":...,
 * "last_modified":...,"bytes":N,"sha256":...,"mtime_ns":N}`; `etag`, `last_modified` and `sha256`
 * are null when unknown, `mtime_ns` absent (lines of older runs). Strings are JSON-escaped, so any name or validator stays on its line. A run appends a
 * line as each file is saved (so that a crash keeps what was saved before it, and a long run holds
 * none of them); a later line for a file replaces an earlier one.
 */

/// One line of a metadata file as an entry; nullopt for a line that is not one (blank lines
/// included), names a file `check_confined` refuses, or has a validator `is_sendable_validator`
/// refuses (a hostile file must not add a header to a request).
std::optional<validator_entry> parse_entry_line(std::string_view line);

/**
 * Where the latest line of each file is in a metadata file, so that a folder of a million files is
 * not held in memory: each name is kept as a 64-bit hash with the offset of its line (12 to 24
 * bytes a file, cli/fetch/name_hash_table.hpp), and the line is read back when it is wanted. A
 * line read back for a name is compared with it, so two names with equal hashes never mix: the
 * one not indexed is just fetched again, as a file without an entry is.
 *
 * No thread safety; a value type.
 */
class validator_index
{
public:
    /// The largest metadata file indexed: offsets fit in 32 bits.
    static constexpr std::uint64_t max_offset = 0xFFFF'FFFEull;

    /// Indexes the entry `line` of the file, which begins at `offset`; a later line of the same
    /// file replaces an earlier one. False, indexing nothing, if `line` is not an entry or the offset is past
    /// `max_offset`.
    bool add(std::string_view line, std::uint64_t offset);

    /// Where the latest line of `file` begins, if it has one.
    std::optional<std::uint64_t> find(std::string_view file) const;

    /// Files indexed.
    std::size_t size() const noexcept { return offsets_.size(); }

private:
    name_hash_table offsets_; // name hash -> offset + 1
};

/// Appends the metadata line of `entry` to `text`; false (nothing appended) for a name that may not
/// be kept. Validators that could not be sent back are dropped (the file is then fetched
/// unconditionally next time).
bool append_entry_line(validator_entry entry, std::string& text);

/// The fields that make a request conditional on `entry`, for a file now `size_on_disk` bytes
/// long and last written at `mtime_ns`, fetched from `url`: `If-None-Match` with its ETag and
/// `If-Modified-Since` with its Last-Modified. None when the entry is for another URL, the size or
/// the mtime changed (the file was edited since it was saved: a 304 would keep the edit), or it
/// has no validators: the file is then fetched unconditionally.
std::vector<std::pair<std::string, std::string>> conditional_fields(const validator_entry& entry, std::string_view url,
                                                                    std::uint64_t size_on_disk,
                                                                    std::int64_t mtime_ns);

} // namespace fxrates::cli::fetch
