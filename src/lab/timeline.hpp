#pragma once

#include "lab/strategy.hpp"

#include <span>
#include <string>

namespace fxrates {

/// Draws runs of `fxrates compare` as a standalone SVG 1.1 picture, one lane per run.
///
/// The picture is meant to show at a glance how a strategy spends its time: a sequential run is a
/// staircase of requests, one after another, and an asynchronous run is a single column of
/// requests that all start at once.
///
/// \par Layout
/// Each run is a lane (`<g class="lane" data-strategy="async">`) labelled at the left with the
/// strategy's name and its wall time. Inside it each outcome is one row, in input order, drawn as
/// a group (`<g class="request" data-base="USD">`) of one `<rect>` per phase that took time:
///   - queued to granted: waiting in a queue or for the throttle (light grey);
///   - granted to TLS done: connect and TLS handshake (orange; nothing for a reused connection);
///   - TLS done to first byte: waiting for the server (blue);
///   - first byte to done: reading and decoding the answer (green).
///
/// Every group has a `<title>` tooltip with the base and its start and end, e.g.
/// `USD: 0.012 s → 0.115 s`. A failed outcome is outlined in red, marked with a red cross after
/// its bar and has class `request failed`; its tooltip adds the error message and diagnostics.
///
/// All lanes share one time axis, in seconds since each run's own `started`, so every run begins
/// at the left edge; the axis spans the longest run (its latest `done`, or its wall time if that
/// is longer). Rows are at most 6 px high and shrink so that a lane of many requests stays
/// about 300 px high; bars stay at least 1 px high, so past 300 requests they overlap.
///
/// \par Robustness
/// Time points that are unset (`time_point{}`) take the value of the phase before them (or, at
/// the start, of the first phase that is set), and a time point earlier than the phase before it
/// is moved up to it, so no width is negative. Times before the run's `started` count as zero.
/// All text (names, bases, error messages, the server's untrusted text) is escaped for XML.
///
/// \par Thread safety
/// A pure function of its argument.
///
/// \returns The document, starting with an XML declaration.
std::string render_timeline_svg(std::span<const run_report> runs);

/// The same for runs of the URL job: a row per URL, `<g class="request" data-url="...">`, its
/// tooltip naming the URL.
std::string render_timeline_svg(std::span<const fetch_run_report> runs);

/// Writes runs of `fxrates compare` in the Chrome trace event format, for Perfetto
/// (https://ui.perfetto.dev) or `chrome://tracing`.
///
/// The result is a JSON object `{"traceEvents":[...],"displayTimeUnit":"ms"}`:
///   - run `i` is process `i + 1`, named after its strategy by a `process_name` metadata event;
///   - the threads that ran its requests (`timing.thread_id`; for the process pool, the pair
///     `timing.process_id`, `timing.thread_id`) become tids 1, 2, 3... in order of first use, named
///     `thread 1`, `thread 2`... (`process <pid>` for the process pool);
///   - each outcome is one complete event (`"ph":"X"`, category `request`) named after its base,
///     with `args` saying whether it succeeded, the error and diagnostics if not, and whether the
///     connection was reused;
///   - inside it, one complete event (category `phase`) per phase that took time: `queued`,
///     `connect+tls`, `server` and `read+decode`.
///
/// Timestamps (`ts`) and durations (`dur`) are microseconds since the run's `started`, never
/// negative; time points are cleaned up as for render_timeline_svg().
///
/// The trace viewers require the events of one thread to nest, but requests of one thread overlap
/// when they run on an event loop. Requests of one thread that overlap are therefore spread over
/// extra tids named after it, e.g. `thread 1 (overlap 2)`, one per request in flight at once.
///
/// \par Thread safety
/// A pure function of its argument.
std::string render_chrome_trace(std::span<const run_report> runs);

/// The same for runs of the URL job, each request named after its URL.
std::string render_chrome_trace(std::span<const fetch_run_report> runs);

} // namespace fxrates
