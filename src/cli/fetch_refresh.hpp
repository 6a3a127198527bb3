#pragma once

// `fxrates fetch -o DIR` keeps the validators of the files it saves in DIR/.fxrates-meta
// (cli/fetch/validators.hpp), and `--refresh` sends them back so that an unchanged file costs a
// 304 and no write. This is the command's side: reading and writing that file below the output
// folder's descriptor, and the run's bookkeeping.

#include "cli/fetch/unique_fd.hpp"
#include "cli/fetch/validators.hpp"

#include <fxrates/fetch_outcome.hpp>

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fxrates::cli {

/**
 * The validators of one output folder during a run.
 *
 * - At the start the metadata file is indexed, not loaded (cli/fetch/validators.hpp,
 *   `validator_index`): a folder of a million files costs some 24 MB, and an entry is read back
 *   from the file when its file comes up.
 * - Each saved file's line is appended as the run goes: gathered into writes of 64 KiB, written at
 *   least every second (`flush`, on the command's timer) and at the end, so that a long run holds
 *   none of them and a crash loses at most the last second's (those files are fetched again).
 * - At the end, a folder that had validators before gets its file rewritten atomically with the
 *   latest line of each file, in two passes over the file (never held whole).
 *
 * Runs into one folder at once do not lose each other's lines: every append and the rewrite hold
 * an exclusive flock on the folder, the first index a shared one, and an append opens the file by
 * name (a rewrite by another run replaces the file under it).
 *
 * Nothing is written when nothing changed, so a refresh whose every answer is a 304 writes
 * nothing. A file that cannot be read or written costs a warning, never the run: the files
 * themselves are what was asked for.
 *
 * Thread-safe: `--loops` saves from several loops while the command's timer flushes.
 */
class fetch_refresh
{
public:
    /// Indexes the metadata file below `root` (`dir` names the folder in warnings).
    fetch_refresh(int root, std::string dir);

    /// What makes the request for `name` (which exists) from `url` conditional: its fields, and the
    /// entry they came from (which `not_modified` takes back, so that it is read once). None when
    /// the file has no entry, another URL, or another size or mtime than when it was saved.
    struct condition
    {
        std::vector<std::pair<std::string, std::string>> fields;
        fetch::validator_entry entry;
    };
    std::optional<condition> conditions(const std::string& name, std::string_view url) const;

    /// For --continue, which keeps a file found whole under its name: why `name` (which exists) is
    /// not what this folder's metadata says was saved there from `url` (another URL, or another size
    /// or mtime: cut or edited since); empty when it is, or when the metadata does not know it.
    std::string unlike_saved(const std::string& name, std::string_view url) const;

    /// `name` was saved from `url` with this outcome (`sha256` empty if not computed), last
    /// written at `mtime_ns` (0: unknown), so that a later edit of the file is seen.
    void saved(const std::string& name, const std::string& url, const fetch_outcome& outcome,
               std::string sha256, std::int64_t mtime_ns);

    /// A file was not modified (a 304); `known` is the entry `conditions` gave for it (null if
    /// none). Its digest as last known, empty if none. A changed validator in the 304 is kept.
    std::string not_modified(const fetch::validator_entry* known, const fetch_outcome& outcome);

    /// Appends the lines gathered so far.
    void flush();

    /// Appends what is pending, and tidies the metadata file if it had entries before; warns on
    /// failure. A Ctrl-C saves too.
    void save();

    std::size_t not_modified_count() const;

    static constexpr std::size_t flush_size = 64 * 1024;

private:
    // The entry of `name` as the file had it at the start.
    std::optional<fetch::validator_entry> known(const std::string& name) const;
    void record(fetch::validator_entry entry);
    void flush_locked();

    int root_;
    std::string dir_;
    fetch::unique_fd meta_;      // the metadata file as it was at the start, read back with pread
    fetch::validator_index index_; // its entries, as read at the start

    mutable std::mutex lock_; // what follows
    std::string pending_;     // lines not yet appended
    std::size_t recorded_ = 0;
    bool journal_failed_ = false;
    std::size_t not_modified_ = 0;
};

} // namespace fxrates::cli
