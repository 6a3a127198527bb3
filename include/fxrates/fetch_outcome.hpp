#pragma once

#include <fxrates/body_sink.hpp>
#include <fxrates/diagnostics.hpp>
#include <fxrates/error.hpp>
#include <fxrates/request_timing.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fxrates {

/// One URL to fetch with `client::async_fetch_batch`.
struct fetch_item
{
    /// An absolute `https://` or `http://` URL.
    std::string url;

    /// Where the body goes as it arrives; null keeps it in `fetch_outcome::body`. Not owned: it
    /// must live until the item's outcome is observed.
    body_sink* sink = nullptr;

    /// Fields to send besides the client's own (e.g. `If-None-Match`, `Range`). With a `Range` or
    /// `If-Range` of its own, the item is never resumed (the caller manages ranges).
    std::vector<std::pair<std::string, std::string>> fields;
};

/// What became of one URL: its final answer, or the error that stopped it.
struct fetch_outcome
{
    /// The URL asked for.
    std::string url;

    /// Success when empty. An answer 4xx or 5xx is an error in `fxrates.http` (its body still went
    /// to the sink); 2xx and 304 are successes; another status (a redirect not followed) is
    /// `errc::bad_response`.
    error_code error;

    /// Why it failed, when it did.
    diagnostics diag;

    /// The final answer's status (0 if none came).
    unsigned status = 0;

    /// The URL that gave the final answer, after redirects (empty if none came).
    std::string final_url;

    /// Fields of the final answer that a downloader keeps: `Content-Type`, and the validators for
    /// conditional requests (`ETag`, `Last-Modified`). Untrusted server text.
    std::string content_type;
    std::string etag;
    std::string last_modified;

    /// Size of the whole decoded body the sink holds (or of `body`): the bytes it kept from before
    /// (`resumed_from`) and those the final answer wrote. The bytes transferred by the final
    /// answer are `bytes - resumed_from`.
    std::uint64_t bytes = 0;

    /// Bytes of the body that came from before the final answer: what the sink held (from an
    /// earlier attempt of this request, cut mid-body, or from an earlier run) when the final answer,
    /// a 206, continued it. 0 when the final answer carried the whole body (see
    /// `body_sink::resume_from`).
    std::uint64_t resumed_from = 0;

    /// The body, when the item had no sink.
    std::string body;

    /// When each phase of the request happened (of the last attempt).
    request_timing timing;

    /// Requests sent: 1, or more after retries, 429s and redirects (0 if it never got that far).
    unsigned attempts = 0;

    /// 429 answers met on the way (each waited for, costing no retry).
    unsigned rate_limited = 0;

    /// Redirects followed.
    unsigned redirects = 0;

    /// Requests sent again at once because a reused keep-alive connection was closed unanswered
    /// (counted in `attempts`, costing no retry).
    unsigned resent = 0;

    /// The server answered something (so a failure is not "cannot reach").
    bool server_answered = false;

    bool ok() const noexcept { return !error; }
};

/// Told of each item of a fetch batch as it ends (its index and outcome), on the client's
/// executor, once per item, before the batch completes: where a sink's file is committed or
/// removed, and where progress is shown. It must be quick and must not throw.
using fetch_observer = std::function<void(std::size_t index, const fetch_outcome& outcome)>;

/// Gives the next URL of a streamed fetch (`client::async_fetch_stream`), or nullopt at the end of
/// the list. Called on the client's executor, only when a request could start: a list read here is
/// read as fast as it is fetched, and ahead only past items whose origin is at its limit (at most
/// 1,024 of them; see `client::async_fetch_stream`). It must not throw.
using fetch_source = std::function<std::optional<fetch_item>()>;

/// Wakes a streamed fetch whose `fetch_feed` answered `pending`: the feed is asked again, on the
/// client's executor. Callable from any thread, any number of times, while the client's execution
/// context exists; once the fetch has ended it does nothing.
using fetch_waker = std::function<void()>;

/// What a `fetch_feed` answers: the next item, or `pending` (none yet), or neither: the end.
struct fetch_feed_answer
{
    std::optional<fetch_item> item;
    bool pending = false;

    static fetch_feed_answer next(fetch_item item) { return {std::move(item), false}; }
    static fetch_feed_answer not_yet() { return {std::nullopt, true}; }
    static fetch_feed_answer end() { return {}; }
};

/// A `fetch_source` that may not have its next item yet: a list read by another thread from a pipe
/// or a socket, or held back by the caller's own limits. Called on the client's executor when a
/// request can start; it answers at once, and when it answers `pending`, it calls `wake` (from any
/// thread) once it may have an item, so that the event loop never blocks on it. It must not throw.
using fetch_feed = std::function<fetch_feed_answer(const fetch_waker& wake)>;

} // namespace fxrates
