#pragma once

// Many downloads, one stdout: `fxrates fetch` without `-o` prints each answer whole and in input
// order, whatever order the answers arrive in, and never interleaves two of them.

#include "cli/fetch/unique_fd.hpp"

#include <fxrates/error.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace fxrates::cli::fetch {

/// Where the output goes (stdout in the program, a string in tests). Returns the error of a failed
/// write (EPIPE when the reader went away), which stops all further output.
using output_writer = std::function<error_code(std::string_view)>;

/// What went wrong in an `ordered_output` call; nothing if `failed()` is false.
struct output_status
{
    /// The output is broken (the writer's code, or a held body that could not be read back): the
    /// run cannot go on. Empty when only the call's item failed (its body could not be held) or
    /// for a misuse of the item order.
    error_code code;
    std::string message; ///< a sentence saying what failed; empty if nothing did

    bool failed() const noexcept { return !message.empty(); }
};

/// `$TMPDIR`, or `/tmp` when it is unset or empty: where items that do not fit in memory wait.
std::string default_spill_dir();

/**
 * Writes the bytes of items 0, 1, 2, ... in that order, although they arrive piecewise, mixed,
 * and complete in any order.
 *
 * The item at the head of the order streams straight to the writer, so a 1 GiB answer never sits
 * in memory. Later items are held: in memory while all held bytes stay within `memory_bound`, past
 * it in an anonymous temporary file per item in `spill_dir` (gone when closed, even after a crash).
 * When the head finishes, the finished items after it are written out in order, and the first
 * unfinished one becomes the head: its held bytes are written, and its further bytes stream.
 *
 * With `whole_items`, the head is held like the others and written only when it ends well, so that
 * a failed answer leaves no part of its body in the output (`fxrates fetch`'s stdout: "each body
 * whole"); a large body then waits in a spill file until it is complete.
 *
 * The number of items need not be known: an index is just a position. Every index from 0 up must
 * eventually be finished, or the items after a missing one are never written.
 *
 * Errors: after a write error from the writer, or a held body that cannot be read back, every
 * call returns that same error (the output is broken, and the rest cannot be written in order). A
 * body that cannot be held (no spill file can be made or written: a full or missing TMPDIR) breaks
 * the output too, unless `items_fail_alone`: then it fails that item alone, with an empty code:
 * its bytes are dropped, its writes and its `finish(ok)` return the reason, and the items after it
 * are written as usual; a `begin` tries it afresh.
 * Misuses of the order (writing an item twice, an index already written out) return an error with
 * an empty code and leave the output as it was.
 *
 * Thread safety: none; call from one thread (the command's event loop).
 */
class ordered_output
{
public:
    /// `memory_bound` is the most bytes held in memory for all items waiting their turn (0: every
    /// waiting byte goes to a spill file).
    /// `items_fail_alone`: a body that cannot be held fails its item alone (bodies, where a
    /// failed item is said on stderr and in the report); else it breaks the output (the report,
    /// the --field lines, where line N must stay item N's).
    ordered_output(output_writer out, std::size_t memory_bound, std::string spill_dir = default_spill_dir(),
                   bool whole_items = false, bool items_fail_alone = false);

    ordered_output(const ordered_output&) = delete;
    ordered_output& operator=(const ordered_output&) = delete;

    /// A new final answer for item `index` begins (a retry, or the answer after a redirect): the
    /// bytes it held so far are dropped. Fails if bytes of the item were already written, since
    /// they cannot be taken back ("N bytes already written to stdout").
    output_status begin(std::size_t index);

    /// Appends `data` to item `index`: written now if the item is the head, held otherwise. An item
    /// need not be begun before its first write.
    output_status write(std::size_t index, std::string_view data);

    /// Item `index` is complete. A failed item (`ok` false) contributes nothing, except bytes
    /// already written while it was the head: those stay. Finishing the head writes out the items
    /// that were waiting for it.
    output_status finish(std::size_t index, bool ok);

    /// Bytes held in memory for items waiting their turn.
    std::size_t held_bytes() const noexcept { return held_; }

    /// Bytes held in spill files for items waiting their turn.
    std::uint64_t spilled_bytes() const noexcept { return spilled_; }

    /// The index whose bytes are written as they come: all before it have been written out.
    std::size_t head() const noexcept { return head_; }

private:
    struct held_item
    {
        enum class state
        {
            open,
            succeeded,
            failed,
            unheld, // its body could not be held: `why_` says why
        };
        state state_ = state::open;
        std::string why_;
        std::string memory_; // the first bytes, in memory
        unique_fd spill_;    // the bytes after them, once the memory bound was reached
        std::uint64_t spilled_ = 0;
    };

    output_status emit(std::string_view data);
    output_status hold(held_item& item, std::string_view data);
    output_status write_out(held_item& item);
    output_status advance();
    output_status unhold(held_item& item, error_code ec, std::string why);
    void drop(held_item& item) noexcept;
    output_status misuse(std::size_t index, std::string_view what) const;

    output_writer out_;
    std::size_t memory_bound_;
    std::string spill_dir_;
    std::map<std::size_t, held_item> waiting_; // items after the head that have bytes or are finished
    std::size_t head_ = 0;
    std::uint64_t head_written_ = 0; // bytes of the head already given to the writer
    bool whole_items_ = false;       // the head is held too, until it ends
    bool items_fail_alone_ = false;  // a body that cannot be held fails its item, not the output
    std::size_t held_ = 0;
    std::uint64_t spilled_ = 0;
    output_status broken_;
};

} // namespace fxrates::cli::fetch
