#pragma once

// A URL list read ahead by a thread of its own, into a bounded queue, so that an event loop that
// fetches it never blocks on a slow pipe: while the writer is quiet, the requests under way go on,
// their time limits hold, and Ctrl-C works. The loop asks for the next item without waiting and,
// when there is none yet, leaves a waker that the reader calls when one comes.

#include "cli/url_input.hpp"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace fxrates::cli {

/// An item of the inputs, a bad line of them, or how they ended (`end`, `failed`).
struct url_ahead
{
    url_reader::result kind = url_reader::result::item;
    fetch::list_item item;
    std::string why;
};

class url_prefetcher
{
public:
    /// Starts reading `sources` on a thread, at most `capacity` items ahead of the consumer.
    url_prefetcher(url_sources sources, std::size_t capacity);
    ~url_prefetcher() { stop(); }

    /// Stops the reader (a read waiting for a pipe included) and waits for it; the wakers left
    /// are dropped, never called. Idempotent.
    void stop();

    url_prefetcher(const url_prefetcher&) = delete;
    url_prefetcher& operator=(const url_prefetcher&) = delete;

    /// Waits until `count` items are read ahead or the inputs have ended; with `quiet`, at most that
    /// long, and then until one item is there (a pipe whose writer is slow starts with what came).
    void wait_ahead(std::size_t count, std::optional<std::chrono::milliseconds> quiet);

    /// Calls `visit` for each item read ahead so far, in order (before the consumer takes any).
    void inspect(const std::function<void(const url_ahead&)>& visit) const;

    /// The inputs have ended and every item is read ahead (the list's length is known).
    bool all_ahead() const;

    /// What `take` gives: the next item (or how the inputs ended: `end`, `failed`), or nothing yet.
    struct taken
    {
        std::optional<url_ahead> line;
        bool pending() const noexcept { return !line; }
    };

    /// The next item without waiting; when there is none yet, `wake` (if set) is called once one
    /// comes, from the reader's thread. After an `end` or `failed` line, every take gives it again.
    taken take(const std::function<void()>& wake);

    /// The next item, waiting for it (for the consumers that take the whole list first).
    url_ahead take_waiting();

private:
    void read_all();

    mutable std::mutex lock_;
    std::condition_variable changed_; // an item came, or the list ended (for the consumers)
    std::condition_variable room_;    // half the queue is free again, or stop (for the reader)
    bool reader_waiting_ = false;     // the reader waits for room
    std::deque<url_ahead> ahead_;
    std::optional<url_ahead> ending_; // the end or failure, once read
    std::vector<std::function<void()>> wakers_;
    std::size_t capacity_;
    bool stopping_ = false;
    fetch::unique_fd stop_write_;
    fetch::unique_fd stop_read_; // readable once stopping: ends a read that waits
    url_reader reader_;
    std::thread thread_;
};

} // namespace fxrates::cli
