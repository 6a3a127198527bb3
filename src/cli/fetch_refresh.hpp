#pragma once

// `fxrates fetch -o DIR` keeps the validators of the files it saves in DIR/.fxrates-meta
// (cli/fetch/validators.hpp), and `--refresh` sends them back so that an unchanged file costs a
// 304 and no write. This is the command's side: reading and writing that file below the output
// folder's descriptor, and the run's bookkeeping.

#include "cli/fetch/validators.hpp"

#include <fxrates/fetch_outcome.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fxrates::cli {

/**
 * The validators of one output folder during a run: read when the run starts, updated as items
 * end, and written back once at the end (a Ctrl-C included), merged with what the file then holds.
 *
 * The file is written only when something changed, atomically (a temporary file renamed over it),
 * so a refresh whose every answer is a 304 writes nothing. A file that cannot be read or written
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

    /// Writes the metadata file if anything changed; warns on failure.
    void save();

    std::size_t not_modified_count() const noexcept { return not_modified_; }

private:
    int root_;
    std::string dir_;
    fetch::validator_store known_;   // as read at the start
    fetch::validator_store updates_; // this run's, merged over the file's entries at the end
    std::size_t not_modified_ = 0;
};

} // namespace fxrates::cli
