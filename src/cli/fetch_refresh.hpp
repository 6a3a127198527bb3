#pragma once

// `fxrates fetch -o DIR` keeps the validators of the files it saves in DIR/.fxrates-meta
// (cli/fetch/validators.hpp), and `--refresh` sends them back so that an unchanged file costs a
// 304 and no write. This is the command's side: reading and writing that file below the output
// folder's descriptor, and the run's bookkeeping.

#include "cli/fetch/unique_fd.hpp"
#include "cli/fetch/validators.hpp"

#include <fxrates/fetch_outcome.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fxrates::cli {

/**
 * The validators of one output folder during a run: read when the run starts; each saved file's
 * line is appended to the file as the run goes (gathered into writes of 64 KiB, and at the end),
 * so that a long run holds none of them and a crash loses at most the last few; at the end, a
 * folder that had validators before gets its file rewritten (atomically), one line a file.
 *
 * Nothing is written when nothing changed, so a refresh whose every answer is a 304 writes nothing. A file that cannot be read or written
 * costs a warning, never the run: the files themselves are what was asked for.
 *
 * No thread safety: used on the command's event loop.
 */
class fetch_refresh
{
public:
    /// Reads the metadata file below `root` (`dir` names the folder in warnings).
    fetch_refresh(int root, std::string dir);

    /// The fields making the request for `name` (which exists) from `url` conditional: none when
    /// the file has no entry, another URL, or another size than when it was saved.
    std::vector<std::pair<std::string, std::string>> conditions(const std::string& name,
                                                                std::string_view url) const;

    /// `name` was saved from `url` with this outcome (`sha256` empty if not computed).
    void saved(const std::string& name, const std::string& url, const fetch_outcome& outcome,
               std::string sha256);

    /// `name` was not modified (a 304); its digest as last known, empty if none. A changed
    /// validator in the 304 is kept for next time.
    std::string not_modified(const std::string& name, const fetch_outcome& outcome);

    /// Writes what is pending, and tidies the metadata file if it had entries before; warns on
    /// failure. A Ctrl-C saves too.
    void save();

    std::size_t not_modified_count() const noexcept { return not_modified_; }

private:
    int root_;
    std::string dir_;
    static constexpr std::size_t flush_size = 64 * 1024;

    void record(fetch::validator_entry entry);
    void flush();

    fetch::validator_store known_; // as read at the start
    std::string pending_;          // lines not yet appended
    fetch::unique_fd journal_;     // the metadata file, opened for appending when first needed
    std::size_t recorded_ = 0;
    bool journal_failed_ = false;
    std::size_t not_modified_ = 0;
};

} // namespace fxrates::cli
