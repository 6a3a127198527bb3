#include "cli/fetch_command.hpp"

#include "cli/fetch/item_sinks.hpp"
#include "cli/fetch/json_fields.hpp"
#include "cli/fetch/messages.hpp"
#include "cli/fetch/ordered_output.hpp"
#include "cli/fetch/output_names.hpp"
#include "cli/fetch/report.hpp"
#include "cli/fetch/shard.hpp"
#include "cli/fetch/url_list.hpp"
#include "cli/fetch_loops.hpp"
#include "cli/fetch_refresh.hpp"
#include "cli/input_checks.hpp"
#include "cli/output.hpp"
#include "cli/progress.hpp"
#include "cli/stop_signals.hpp"
#include "cli/url_input.hpp"
#include "cli/url_prefetch.hpp"
#include "client/http/ascii.hpp"
#include "client/ordering_window.hpp"

#include <fxrates/client.hpp>
#include <fxrates/utf8.hpp>

#include <CLI/CLI.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <thread>
#include <unordered_map>

#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fxrates::cli {

namespace {

using fetch::list_item;

constexpr std::string_view command_name = "fetch";

// Bodies waiting for their turn on stdout are held in memory up to this, then spilled to a file.
constexpr std::size_t stdout_memory_bound = 16 * 1024 * 1024;

// With --field the body is parsed whole, in memory: without --max-size, at most this.
constexpr std::size_t field_body_limit = 64 * 1024 * 1024;

// A list that can be read only once (stdin, a pipe) is read this far ahead before anything is
// sent, so that a bad line in a short list is a usage error, as in a file (which is checked whole).
constexpr std::size_t checked_ahead = 10'000;

// ... or for this long, and then as far as the first line: a slow writer (a crawler's output,
// `tail -f`) gets its first lines fetched now, not after 10,000 of them.
constexpr std::chrono::milliseconds quiet_pipe_start{200};

// Items that may end ahead of the oldest unfinished one, waiting for their turn in the ordered
// outputs (stdout, the report): with the connections, what bounds the run's memory.
constexpr std::size_t ordering_window = 4096;

// A strategy other than async takes its list whole.
constexpr std::size_t max_strategy_items = 1'000'000;

// thread-per-item starts a thread per URL (the article's 10 to 400 of them).
constexpr std::size_t max_thread_per_item = 1000;

// One line for a failed item: where it came from, the URL, and why.
// Why an item failed, without naming it (the report names it in fields of its own): the command's
// own reason if it has one, else what the client says.
std::string failure_reason(const list_item& item, const fetch_outcome& outcome, const std::string& own_reason)
{
    if (!own_reason.empty())
    {
        // The input checks' messages name the line already.
        std::string_view reason = own_reason;
        if (auto prefix = "line " + std::to_string(item.line) + ": "; reason.starts_with(prefix))
            reason.remove_prefix(prefix.size());
        return std::string(reason);
    }
    std::string text = outcome.error.category() == http_category()
                           ? "the server answered HTTP " + std::to_string(outcome.error.value())
                           : outcome.error.message();
    const auto& said = outcome.diag.client_message();
    // "cannot connect to HOST: Connection refused" says it all: not "Connection refused (...)" too.
    // A timeout's own text ("The socket was closed due to a timeout") is generic, and wrong for
    // a wait in line: the library's explanation says which limit passed, waiting for what. So is
    // "not the answer asked for", whose advice is the rates API's: the explanation says what came.
    if (!said.empty())
        text = said.find(text) != std::string::npos || outcome.error == condition::timeout ||
                       outcome.error == errc::bad_response
                   ? escape_untrusted(said, false)
                   : text + " (" + escape_untrusted(said, false) + ")";
    if (!outcome.diag.server_message().empty())
        text += "; the server says: \"" + escape_untrusted(outcome.diag.server_message(), false) + '"';
    // The library names settings; the command line has flags for them.
    if (outcome.error == condition::tls && said.find("trust its CA") != std::string::npos)
        text += " (--cacert FILE trusts a CA; --insecure skips verification)";
    else if (outcome.error == errc::body_limit)
        text += " (--max-size SIZE raises it)";
    else if (outcome.error == condition::timeout && said.find("max_connections_per_origin") != std::string::npos)
        text += " (--per-host N allows more connections to a host; --timeout SECONDS raises the time per URL, "
                "its wait in line included)";
    else if (outcome.error == condition::timeout && said.find("max_connections)") != std::string::npos)
        text += " (--concurrency N allows more connections; --timeout SECONDS raises the time per URL, its "
                "wait in line included)";
    else if (outcome.error == condition::timeout)
        text += " (--timeout SECONDS raises the time per URL)";
    else if (outcome.error == errc::header_limit)
        text += " (--max-header SIZE raises it)";
    // Retried to the end of its own --retries: say so, as the retry budget's note does.
    // Counted as the report's `attempts` is, redirects included.
    if (outcome.attempts - std::min(outcome.attempts, outcome.redirects) > 1 && said.find("retried") == std::string::npos)
        text += "; after " + std::to_string(outcome.attempts) + " attempts" +
                (outcome.redirects > 0 ? " (" + std::to_string(outcome.redirects) + " of them redirected)" : "");
    return text;
}

// "line N: URL: why", for stderr; a bad line of the input (no URL) says so as the reader did
// ("-i (stdin), line N: ...").
std::string describe_failure(const list_item& item, const fetch_outcome& outcome, const std::string& own_reason)
{
    if (item.url.empty() && !own_reason.empty())
        return own_reason;
    return "line " + std::to_string(item.line) + ": " + fetch::shown(item.url) + ": " +
           failure_reason(item, outcome, own_reason);
}

// A report line's timings, in milliseconds from the item's start. `secure`: the last request went
// over TLS (a plain http one had no handshake: null, not 0).
void fill_timing(const request_timing& timing, bool secure, fetch::report_record& record)
{
    using time_point = request_timing::time_point;
    auto since = [&](time_point from, time_point to) -> std::optional<double> {
        if (from == time_point{} || to == time_point{})
            return std::nullopt;
        return std::chrono::duration<double, std::milli>(to - from).count();
    };
    // Every wait before the request could go: its turn among a host's URLs, the rate limit, a connection.
    record.queued_ms = since(timing.queued, timing.started != time_point{} ? timing.started : timing.granted);
    record.connect_ms = timing.reused_connection ? std::optional<double>(0) : since(timing.started, timing.connected);
    record.tls_ms = !secure                    ? std::nullopt
                    : timing.reused_connection ? std::optional<double>(0)
                                               : since(timing.connected, timing.tls_done);
    record.first_byte_ms = since(timing.tls_done, timing.first_byte);
    record.total_ms = since(timing.queued, timing.done);
}


// The identity of a file, to tell two names of one file apart from two files.
struct file_identity
{
    dev_t device = 0;
    ino_t inode = 0;
    mode_t mode = 0;

    bool operator==(const file_identity& other) const noexcept
    {
        return device == other.device && inode == other.inode;
    }
};

std::optional<file_identity> identity_of_path(const std::string& path)
{
    struct stat info{};
    if (::stat(path.c_str(), &info) != 0)
        return std::nullopt;
    return file_identity{info.st_dev, info.st_ino, info.st_mode};
}

std::optional<file_identity> identity_of_descriptor(int fd)
{
    struct stat info{};
    if (::fstat(fd, &info) != 0)
        return std::nullopt;
    return file_identity{info.st_dev, info.st_ino, info.st_mode};
}

// An input named on the command line: a file, or "-" for standard input.
std::optional<file_identity> identity_of_input(const std::string& path)
{
    return path == "-" ? identity_of_descriptor(STDIN_FILENO) : identity_of_path(path);
}

// A file the run reads or writes besides the bodies (the report, the inputs, stdout's and stderr's), and
// how to name it: a fetched body never replaces one (`-o . --overwrite` with a URL named as the list).
struct own_file
{
    file_identity identity;
    std::string role; // "the report (--report r.jsonl)"
};

std::vector<own_file> own_files_of(const fetch_options& options, int report_fd)
{
    std::vector<own_file> files;
    auto add = [&](std::optional<file_identity> identity, std::string role) {
        if (identity && S_ISREG(identity->mode))
            files.push_back({*identity, std::move(role)});
    };
    if (report_fd >= 0)
        add(identity_of_descriptor(report_fd), "the report (--report " + options.report + ")");
    if (!options.input.empty())
        add(identity_of_input(options.input), "the list (-i " + options.input + ")");
    if (!options.values.empty())
        add(identity_of_input(options.values), "the values (--values " + options.values + ")");
    if (!options.trust.ca_file.empty())
        add(identity_of_path(options.trust.ca_file), "the CA file (--cacert " + options.trust.ca_file + ")");
    add(identity_of_descriptor(STDOUT_FILENO), "standard output's file");
    add(identity_of_descriptor(STDERR_FILENO), "standard error's file"); // the messages still to come
    return files;
}

// Why the run's outputs cannot be where they are, or nothing. Opening the report empties it, and
// stdout appends to or empties its file: an output that is one of the run's inputs (the list, the
// values, the CA file; by another name, a link, /dev/stdin) would empty the list before it is read
// (the run then fetches nothing and says all is well) or feed the run its own output for ever. Nor
// may the report be where the bodies go, or the output folder's validators. A terminal or
// /dev/null may be any of them: nothing there is lost or read back.
std::optional<std::string> output_conflict(const fetch_options& options, bool to_stdout)
{
    struct named_input
    {
        std::string_view flag;
        const std::string& path;
    };
    const named_input inputs[] = {{"-i", options.input}, {"--values", options.values}, {"--cacert", options.trust.ca_file}};
    auto input_named = [&](const file_identity& output) -> std::optional<std::string> {
        for (const auto& [flag, path] : inputs)
        {
            if (path.empty())
                continue;
            auto input = identity_of_input(path);
            if (input && *input == output)
                return std::string(flag) + (path == "-" ? " (stdin)" : " " + path);
        }
        return std::nullopt;
    };
    const bool report_to_file = !options.report.empty() && options.report != "-";
    const auto report = report_to_file ? identity_of_path(options.report) : std::nullopt;
    if (report && !S_ISCHR(report->mode))
    {
        if (auto input = input_named(*report))
            return "--report " + options.report + " is the file " + *input +
                   " reads: writing the report would empty it first; give the report another file";
        if (to_stdout && identity_of_descriptor(STDOUT_FILENO) == report)
            return "--report " + options.report + " is standard output, where the " +
                   (options.fields.empty() ? "bodies" : "--field lines") + " go; give the report another file";
    }
    if (auto out = identity_of_descriptor(STDOUT_FILENO); to_stdout && out && !S_ISCHR(out->mode))
        if (auto input = input_named(*out))
            return "standard output is the file " + *input +
                   " reads: the run would read its own output; send it to another file";
    if (report_to_file && !options.output_dir.empty())
    {
        // The validators' file of the output folder, whether the folder and the file exist yet or
        // not: the paths compared with their links and dot segments resolved as far as they exist.
        std::error_code ignored;
        const auto report_path = std::filesystem::weakly_canonical(options.report, ignored);
        auto folder = std::filesystem::weakly_canonical(options.output_dir, ignored);
        if (!folder.has_filename()) // "out/": the same folder as "out"
            folder = folder.parent_path();
        if (!report_path.empty() && report_path.filename() == fetch::validators_file_name &&
            report_path.parent_path() == folder)
            return "--report " + options.report + " is the folder's record of what each file's server said (" +
                   std::string(fetch::validators_file_name) + "); give the report another file";
    }
    return std::nullopt;
}

// The items of a run as it goes: read from the inputs when a request can start (checked ahead
// where they can be), each one's state kept from then until it ends, and every output fed as
// items end. Whatever the list's length, it holds only the items under way and what waits for
// its turn in the ordered outputs.
class fetch_run
{
public:
    struct setup
    {
        const fetch_options& options;
        bool to_files;
        bool to_fields;
        bool hash;
        int root;
        fetch::name_pattern pattern;
        fetch::shard part;
        fetch_refresh* validators;
        fetch::ordered_output& body_out;
        fetch::ordered_output& report_out;
        bool& stdout_failed;
        bool& report_failed;
        const std::vector<own_file>& own_files; // never replaced by a body
        // Bodies, --field lines or the report go to a terminal: a progress line there would cut
        // into them (curl shows no meter then either).
        bool prints_on_terminal;
    };

    // `window` (0: none): no request starts while it is that many items past the oldest
    // unfinished one, on whichever loop, so that what waits for its turn in the ordered outputs
    // stays bounded behind a stalled URL.
    fetch_run(setup config, url_prefetcher& input, std::size_t window, std::optional<std::size_t> total)
        : config_(std::move(config)), input_(input), order_(window),
          progress_(std::string(command_name), total.value_or(0),
                    standard_error_is_terminal() && !config_.options.quiet && !config_.prints_on_terminal)
    {
    }

    progress_display& progress() noexcept { return progress_; }

    // An ordered output that broke (a write failed, or a line could not be held for its turn):
    // said once, the run stops, and it exits 1. A write error was said by the writer already.
    void output_broken(const fetch::output_status& status, bool& failed, const std::string& what)
    {
        if (!status.code)
            return;
        if (!failed)
            report(command_name, "cannot write " + what + ": " + status.message);
        failed = true;
        if (stop_batch)
            stop_batch();
    }

    void report_broken(const fetch::output_status& status)
    {
        output_broken(status, config_.report_failed, "--report " + config_.options.report);
    }

    // Set once the run's loop exists: stops the batch (stdout or the report cannot be written).
    std::function<void()> stop_batch;
    // Set on Ctrl-C: the items it cuts short are listed, not counted as failures.
    std::atomic<int> signal_number = 0;

    // The next request, or the end of the input, or `pending`: the input has no line yet (a quiet
    // pipe), or the ordering window is full; `wake` is then called once it may be otherwise. Items
    // refused before sending (a bad line of a pipe, a name) end here, in their turn, without a
    // request.
    fetch_feed_answer next_request(const fetch_waker& wake)
    {
        for (;;)
        {
            if (!order_.has_room())
            {
                window_wakers_.push_back(wake);
                return fetch_feed_answer::not_yet();
            }
            auto taken = input_.take(wake);
            if (taken.pending())
                return fetch_feed_answer::not_yet();
            if (auto answer = admit(std::move(*taken.line)))
                return std::move(*answer);
        }
    }

    // The next request, waiting for the input (for a strategy, which takes the list whole).
    std::optional<fetch_item> next_request_waiting()
    {
        for (;;)
            if (auto answer = admit(input_.take_waiting()))
                return std::move(answer->item);
    }

    // The number of the request next_request gave last (from 0).
    std::size_t last_number() const noexcept { return requests_ - 1; }

    // The outcome of request `index` (in the order next_request gave them).
    void observe(std::size_t index, const fetch_outcome& outcome)
    {
        auto found = running_.find(index);
        if (found == running_.end())
            return;
        auto state = std::move(found->second);
        running_.erase(found);
        end_item(*state, outcome);
    }

    // The run is over: says the failures that progress did not say as they happened.
    void say_failures()
    {
        progress_.finish();
        for (const auto& line : failure_lines_)
            report(command_name, line);
        if (failed_ > failure_lines_.size() && !progress_.enabled())
            report(command_name, "... and " + std::to_string(failed_ - failure_lines_.size()) +
                                     " more failures (--report FILE lists every one)");
        if (!input_failure_.empty())
            report(command_name, input_failure_ + "; the items before it were fetched");
        if (pattern_clashes_ > 0)
            report(command_name, std::to_string(pattern_clashes_) + " URL(s) got a file name already taken: --name "
                                 "'{index}-{name}' gives each URL a name of its own");
    }

    std::size_t ended() const noexcept { return ended_; }
    std::size_t failed() const noexcept { return failed_; }
    std::size_t cut_short() const noexcept { return cut_short_; }
    std::size_t partials_kept() const noexcept { return partials_kept_; }
    static constexpr std::size_t listed_cut_short = 20;
    // The first `listed_cut_short` lines cut short, as "1, 2, 3".
    std::string cut_short_lines() const
    {
        std::string text;
        for (auto line : cut_short_lines_)
            text += (text.empty() ? "" : ", ") + std::to_string(line);
        return text;
    }
    // Items the stop came before they were sent (waiting for their turn, or for a thread).
    std::size_t not_sent() const noexcept { return not_sent_; }
    bool input_failed() const noexcept { return !input_failure_.empty(); }
    // Items of the input not started (the run was stopped before they were read).
    bool input_left() const noexcept { return !input_done_; }

    // The items a stopped run never read, from the first to the last line.
    struct never_started
    {
        std::size_t count = 0;
        std::size_t first_line = 0;
        std::size_t last_line = 0;
    };

    // After Ctrl-C, for the summary: ", not started: 23 URLs, lines 3, 5 to 25" (those stopped
    // unsent, then the lines never read, `rest`, as runs of lines), or nothing.
    std::string not_started_text(const never_started& rest) const
    {
        const std::size_t never = not_sent_ + rest.count;
        if (never == 0)
            return {};
        std::vector<std::pair<std::size_t, std::size_t>> runs;
        auto add_run = [&](std::size_t first, std::size_t last) {
            if (!runs.empty() && runs.back().second + 1 >= first)
                runs.back().second = std::max(runs.back().second, last);
            else
                runs.emplace_back(first, last);
        };
        for (auto line : not_sent_lines_)
            add_run(line, line);
        const bool all_listed = not_sent_ <= not_sent_lines_.size();
        if (rest.count > 0 && all_listed)
            add_run(rest.first_line, rest.last_line);
        std::string lines;
        for (auto [first, last] : runs)
            lines += (lines.empty() ? "" : ", ") + std::to_string(first) +
                     (last == first ? "" : (last == first + 1 ? ", " : " to ") + std::to_string(last));
        if (!all_listed)
            lines += ", ...";
        return ", not started: " +
               (never == 1 ? "line " + lines : std::to_string(never) + " URLs, lines " + lines);
    }

    // After Ctrl-C: the items of a rereadable input that were never read get report lines too
    // ("not started"), so that the report accounts for every line of the input whatever stopped
    // it, and a script can fetch those lines again.
    never_started report_never_started(url_sources sources)
    {
        never_started rest;
        if (!input_left())
            return rest;
        url_reader again(std::move(sources));
        fetch::list_item item;
        std::string why;
        for (std::size_t position = 0;; ++position)
        {
            const auto kind = again.next(item, why);
            if (kind != url_reader::result::item && kind != url_reader::result::bad_line)
                break;
            if (position < positions_ || (kind == url_reader::result::item && !fetch::in_shard(item.url, config_.part)))
                continue;
            ++rest.count;
            rest.first_line = rest.first_line ? rest.first_line : item.line;
            rest.last_line = item.line;
            if (!config_.hash || config_.report_failed)
                continue;
            fetch::report_record record;
            record.index = position + 1;
            record.line = item.line;
            record.url = item.url;
            mark_not_started(record);
            const std::size_t i = order_.open();
            config_.report_out.begin(i);
            config_.report_out.write(i, fetch::report_line(record) + "\n");
            report_broken(config_.report_out.finish(i, true));
            move_window(i);
        }
        return rest;
    }

private:
    // A line the stop came before: unsent (waiting) or never read, the report says it alike.
    static void mark_not_started(fetch::report_record& record)
    {
        record.error_category = "fxrates.client";
        record.error_message = "not started: the run was interrupted";
    }

    // Keeps the first `listed_cut_short` lines of the input, whatever order they come in.
    static void keep_first_lines(std::vector<std::size_t>& lines, std::size_t line)
    {
        lines.insert(std::upper_bound(lines.begin(), lines.end(), line), line);
        if (lines.size() > listed_cut_short)
            lines.pop_back();
    }

    // One line of the input: a request, or the end of the input; nothing when the line ends here
    // (refused, or another shard's).
    std::optional<fetch_feed_answer> admit(url_ahead next)
    {
        if (next.kind != url_reader::result::item && next.kind != url_reader::result::bad_line)
        {
            input_done_ = true;
            if (next.kind == url_reader::result::failed && input_failure_.empty())
                input_failure_ = next.why;
            return fetch_feed_answer::end();
        }
        const std::size_t position = positions_++;
        // A bad line has no origin to shard by: the first shard reports it.
        if (next.kind == url_reader::result::bad_line ? config_.part.index != 0
                                                      : !fetch::in_shard(next.item.url, config_.part))
            return std::nullopt;
        if (!config_.to_files && !next.item.file.empty() && !file_names_ignored_)
        {
            file_names_ignored_ = true;
            report(command_name, "warning: line " + std::to_string(next.item.line) +
                                     " names a file, but without -o DIR the bodies go to standard output; "
                                     "the list's file names are not used");
        }
        auto state = std::make_unique<item_state>();
        state->item = std::move(next.item);
        state->index = order_.open();
        state->position = position;
        state->own_failure = std::move(next.why);
        fetch_item request{state->item.url, nullptr, {}};
        if (state->own_failure.empty())
            prepare(*state, request);
        if (!state->own_failure.empty() || state->skipped)
        {
            fetch_outcome refused;
            refused.url = state->item.url;
            end_item(*state, refused);
            return std::nullopt;
        }
        running_.emplace(requests_++, std::move(state));
        return fetch_feed_answer::next(std::move(request));
    }

    // Item `index` has ended: the window moves on past the items that ended before it.
    void move_window(std::size_t index)
    {
        if (!order_.close(index))
            return;
        for (auto& wake : std::exchange(window_wakers_, {}))
            wake();
    }

    struct item_state
    {
        fetch::list_item item;
        std::size_t index = 0;    // among this run's items: the order of stdout and the report
        std::size_t position = 0; // among the input's items (every shard's): the report's index, {index}
        std::string own_failure;  // why it was refused before sending, or why its body was not kept
        bool skipped = false;     // --continue: its file is complete already
        std::uint64_t kept_bytes = 0; // the size of the file kept (skipped, or not modified)
        std::optional<fetch::validator_entry> known; // --refresh: the entry its conditions came from
        std::string file_name;
        std::unique_ptr<fetch::file_sink> file;
        std::unique_ptr<fetch::ordered_sink> out;
    };

    // The item's sink, and its name under -o; or `own_failure` says why it cannot be fetched.
    void prepare(item_state& state, fetch_item& request)
    {
        const auto& options = config_.options;
        if (config_.to_files)
        {
            auto name = fetch::build_name(config_.pattern, state.item, state.position);
            if (!name.ok())
            {
                state.own_failure = name.error;
                return;
            }
            if (fetch::is_internal_name(name.name))
            {
                state.own_failure = fetch::line_prefix(state.item.line) + escape_untrusted(name.name, false) +
                                    " is a name fetch uses for its own files (validators, partial and temporary files); give the file "
                                    "another name";
                return;
            }
            if (auto clash = taken_.claim(name.name, state.item.line))
            {
                state.own_failure = *clash;
                pattern_clashes_ += state.item.file.empty() ? 1 : 0;
                return;
            }
            std::string why;
            auto found = fetch::inspect_file(config_.root, name.name, why);
            if (!found)
            {
                state.own_failure = why;
                return;
            }
            const bool exists = found->exists;
            const file_identity there{static_cast<dev_t>(found->device), static_cast<ino_t>(found->inode)};
            for (const auto& own : config_.own_files)
                if (exists && own.identity == there)
                {
                    state.own_failure = escape_untrusted(name.name, false) + " in " + options.output_dir + " is " +
                                        own.role + ", which a body never replaces; give the item another name";
                    return;
                }
            if (exists && options.refresh)
            {
                if (auto condition = config_.validators->conditions(name.name, state.item.url))
                {
                    request.fields = std::move(condition->fields);
                    state.known = std::move(condition->entry);
                }
            }
            else if (exists && options.continue_run)
            {
                // Complete: only a whole file is ever put under its name, unless the folder's
                // metadata says it is not this URL's, or not as it was saved. The report gives its size.
                if (auto unlike = config_.validators->unlike_saved(name.name, state.item.url); !unlike.empty())
                {
                    state.own_failure = escape_untrusted(name.name, false) + " exists in " + options.output_dir +
                                        " but " + unlike + "; it is kept (--overwrite fetches it again)";
                    return;
                }
                state.skipped = true;
                state.kept_bytes = found->size;
                state.file_name = std::move(name.name);
                return;
            }
            else if (exists && !options.overwrite)
            {
                state.own_failure = escape_untrusted(name.name, false) + " exists in " + options.output_dir +
                                    " and is kept (--overwrite replaces it, --continue skips it)";
                return;
            }
            state.file_name = std::move(name.name);
            state.file =
                std::make_unique<fetch::file_sink>(config_.root, state.file_name, state.item.url, config_.hash);
            request.sink = state.file.get();
            // A partial download of this URL kept from an earlier run is continued: --continue's for a
            // file not there yet, --refresh's for a new version of one that is (the request keeps
            // its conditions, which the server weighs before the range).
            if (options.continue_run || options.refresh)
                if (auto text = fetch::atomic_file::read_note(config_.root, state.file_name))
                    if (auto note = fetch::parse_note(*text); note && note->url == state.item.url)
                        state.file->continue_partial(*note); // if it cannot be, the item starts over
        }
        else if (!config_.to_fields)
        {
            state.out = std::make_unique<fetch::ordered_sink>(config_.body_out, state.index, config_.hash);
            request.sink = state.out.get();
        }
    }

    // One item ends: its file is committed or removed, its stdout turn or --field line taken, its
    // report line written, and progress told.
    void end_item(item_state& state, const fetch_outcome& outcome)
    {
        const auto& options = config_.options;
        const std::size_t i = state.index;
        bool ok = outcome.ok() && state.own_failure.empty();
        // Only a conditional request gets a 304: the file on disk is current and stays untouched.
        const bool not_modified = ok && outcome.status == 304;
        std::string why = state.own_failure;
        std::string sha;
        std::string field_line;
        if (state.file)
        {
            auto& sink = *state.file;
            if (!sink.failure().empty())
                why = "cannot save: " + sink.failure();
            if (not_modified)
            {
                // Only a conditional request gets a 304: its entry is the item's, with the file's
                // size as checked then.
                sha = config_.validators->not_modified(state.known ? &*state.known : nullptr, outcome);
                state.kept_bytes = state.known ? state.known->bytes : 0;
            }
            else if (ok)
            {
                sha = sink.sha256();
                if (auto cannot = sink.commit(options.overwrite || options.refresh); !cannot.empty())
                {
                    ok = false;
                    why = "cannot save: " + cannot;
                }
                else
                    config_.validators->saved(state.file_name, state.item.url, outcome,
                                              config_.hash ? sha : std::string(), sink.committed_mtime_ns());
            }
            if (!ok)
            {
                if (auto kept = sink.end_failed())
                {
                    ++partials_kept_;
                    why = failure_reason(state.item, outcome, why) + "; " +
                          std::to_string(kept) + " bytes kept for " + (options.refresh ? "--refresh" : "--continue");
                }
            }
            else if (not_modified)
                sink.discard();
            state.file.reset(); // its descriptors go now, not at the end of a long run
        }
        else if (state.out)
        {
            auto& sink = *state.out;
            if (!sink.failure().empty())
                why = sink.failure();
            if (ok)
                sha = sink.sha256();
            if (sink.output_failed() && stop_batch)
                stop_batch();
            state.out.reset();
        }
        else if (config_.to_fields && ok)
        {
            std::string reason;
            if (!fetch::extract_fields(outcome.body, options.fields, field_line, reason))
            {
                ok = false;
                why = reason;
            }
            else if (config_.hash)
            {
                fetch::sha256_hasher hasher;
                hasher.update(outcome.body);
                sha = hasher.hex_digest();
            }
        }
        if (!config_.to_files && !config_.stdout_failed)
        {
            if (config_.to_fields)
            {
                // A failed item prints its line too, with every field empty: line N of the output
                // stays item N's, for `paste` and friends (the failure is on stderr).
                if (!ok)
                    field_line.assign(options.fields.size() - 1, '\t');
                config_.body_out.begin(i);
                config_.body_out.write(i, field_line + "\n");
            }
            // An item whose body could not be put out (a spill file that could not be made) is
            // not fetched as far as the user is concerned: the report says so too.
            auto put_out = config_.body_out.finish(i, ok || config_.to_fields);
            if (put_out.failed() && ok)
            {
                ok = false;
                why = put_out.message;
            }
            output_broken(put_out, config_.stdout_failed, "standard output");
        }
        // Stopped before its request was sent (waiting for its host's turn, a connection or a
        // thread): not started, as the lines never read are.
        const bool stopped_unsent =
            !ok && signal_number != 0 && outcome.error == condition::cancelled && outcome.attempts == 0;
        if (config_.hash && !config_.report_failed)
        {
            fetch::report_record record;
            record.index = state.position + 1;
            record.line = state.item.line;
            record.url = state.item.url;
            record.final_url = outcome.final_url;
            record.status = outcome.status;
            record.bytes = outcome.bytes;
            record.sha256 = sha;
            record.file = ok && config_.to_files ? state.file_name : std::string();
            record.content_type = outcome.content_type;
            record.attempts = outcome.attempts;
            // The last request's scheme; an item stopped before it ended may have no final URL.
            const std::string_view last_url = outcome.final_url.empty() ? state.item.url : outcome.final_url;
            fill_timing(outcome.timing, !fxrates::detail::iequals(last_url.substr(0, 5), "http:"), record);
            record.ok = ok;
            record.not_modified = not_modified;
            record.skipped = state.skipped;
            record.resumed_from = outcome.resumed_from;
            if (state.skipped)
                record.file = state.file_name;
            if (state.skipped || not_modified)
                record.bytes = state.kept_bytes;
            if (!ok)
            {
                record.error_category = outcome.error ? outcome.error.category().name() : "fxrates.fetch";
                record.error_message = failure_reason(state.item, outcome, why);
            }
            if (stopped_unsent)
                mark_not_started(record);
            config_.report_out.begin(i);
            config_.report_out.write(i, fetch::report_line(record) + "\n");
            report_broken(config_.report_out.finish(i, true));
        }
        ++ended_;
        move_window(i);
        if (stopped_unsent)
        {
            ++not_sent_;
            keep_first_lines(not_sent_lines_, state.item.line);
            progress_.record(true, {});
        }
        else if (!ok && signal_number != 0 && outcome.error == condition::cancelled)
        {
            ++cut_short_;
            keep_first_lines(cut_short_lines_, state.item.line);
            progress_.record(true, {});
        }
        else if (!ok)
        {
            ++failed_;
            auto line = describe_failure(state.item, outcome, why);
            progress_.record(false, [&] { return line; });
            // Said at the end when progress did not say it; a long run keeps only the first ones.
            if (!progress_.enabled() && failure_lines_.size() < max_failure_lines)
                failure_lines_.push_back(std::move(line));
        }
        else
            progress_.record(true, {});
    }

    static constexpr std::size_t max_failure_lines = 1000;
    std::size_t pattern_clashes_ = 0; // items refused for a name that --name's pattern gave twice

    setup config_;
    url_prefetcher& input_;
    bool input_done_ = false;
    bool file_names_ignored_ = false; // said once
    fxrates::detail::ordering_window order_; // this run's items, numbered as admitted
    std::vector<fetch_waker> window_wakers_;
    std::string input_failure_;
    progress_display progress_;
    fetch::name_registry taken_;
    std::unordered_map<std::size_t, std::unique_ptr<item_state>> running_;
    std::size_t positions_ = 0;
    std::size_t requests_ = 0;
    std::size_t ended_ = 0;
    std::size_t failed_ = 0;
    std::size_t cut_short_ = 0;
    std::size_t not_sent_ = 0;
    std::vector<std::size_t> not_sent_lines_;
    std::size_t partials_kept_ = 0;
    std::vector<std::size_t> cut_short_lines_;
    std::vector<std::string> failure_lines_;
};

} // namespace

CLI::App* add_fetch_command(CLI::App& app, fetch_options& options)
{
    auto* command = app.add_subcommand("fetch", "Fetch many URLs at once, to stdout in input order or to files");
    command->add_option("urls", options.urls, "URLs to fetch (http:// or https://)");
    auto* input = command->add_option("-i,--input", options.input,
                                      "A list of URLs, one a line ('-' for stdin): 'URL' or 'URL FILE'; blank lines "
                                      "and # comments skipped")
                      ->check(not_empty("a file name"));
    auto* templ = command->add_option("--template", options.url_template,
                                      "A URL with {} where each value of --values goes, percent-encoded")
                      ->check(not_empty("a URL template"));
    auto* values = command->add_option("--values", options.values, "Values for --template, one a line ('-' for stdin); as in a list, blank lines and lines "
                                       "starting with # are skipped, and spaces around a value trimmed")
                       ->check(not_empty("a file name"));
    templ->needs(values);
    values->needs(templ);
    auto* output = command->add_option("-o,--output-dir", options.output_dir,
                                       "Save each body to a file in this folder (made if missing) instead of stdout")
                       ->check(not_empty("a folder"));
    command->add_option("--name", options.name,
                        "File name under -o: {name} (last path segment), {index}, {host}, {path}, {value}")
        ->check(not_empty("a name pattern"))
        ->needs(output)
        ->capture_default_str();
    command->add_flag("--overwrite", options.overwrite, "Replace files that exist (they are kept otherwise)")
        ->needs(output);
    command->add_flag("--continue", options.continue_run,
                      "Go on with an interrupted run into the same folder: complete files are skipped, partial "
                      "downloads continue where they stopped (Range + If-Range)")
        ->needs(output)
        ->excludes("--overwrite");
    command->add_flag("--refresh", options.refresh,
                      "Fetch again into a folder of an earlier run, asking for changed files only (If-None-Match); "
                      "unchanged files are not written")
        ->needs(output);
    auto* field = command->add_option("--field", options.fields,
                                      "Print this field of each JSON answer (a JSON pointer such as /rates/EUR); "
                                      "repeat for more, tab-separated, one line per URL")
                      ->excludes(output)
                      ->allow_extra_args(false);
    (void)field;
    command->add_option("--report", options.report,
                        "Write one JSON line per URL, in input order, to FILE ('-' for stdout): status, bytes, "
                        "sha256, file, timings, error")
        ->check(not_empty("a file name"));
    add_trust_options(*command, options.trust, nullptr,
                      "Trust the certificate authorities in this PEM file instead of the system's (as curl does)",
                      "Do not verify servers' certificates (only for servers you control)");
    command->add_option("--concurrency", options.concurrency, "Most connections open at once, all hosts together")
        ->check(CLI::Range(std::size_t{1}, std::size_t{10000}))
        ->each([&options](const std::string&) { options.concurrency_given = true; })
        ->capture_default_str();
    command->add_option("--per-host", options.per_host, "Most connections open to one host (scheme, host, port)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{10000}))
        ->capture_default_str();
    auto* rate = command->add_option("--rate", options.rate, "Requests per second at most to each host")
                     ->check(finite_number(
                         {.min = 0, .max = 1e6, .min_excluded = true, .what = "a positive number of requests per second"}));
    command->add_option("--burst", options.burst, "Requests at once within --rate (default: one second's worth)")
        ->check(finite_number({.min = 1, .max = 1e6}))
        ->needs(rate);
    command->add_option("--retries", options.retries,
                        "Retries of a URL after a connection error, timeout, 502, 503 or 504 (a 429 waits for its "
                        "Retry-After and is no retry); the run retries at most 20% of its URLs, never fewer "
                        "than N retries in all")
        ->check(CLI::Range(0u, 10u))
        ->capture_default_str();
    command->add_option("--timeout", options.timeout_seconds, "Seconds each URL may take, retries included")
        ->check(finite_number({.min = 0.001, .max = 86400}))
        ->capture_default_str();
    command->add_option("--max-size", options.max_size,
                        "Largest body taken, after decompression (e.g. 100M); larger fails that URL")
        ->transform(CLI::AsSizeValue(false))
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 50));
    command->add_option("--max-header", options.max_header,
                        "Largest answer header taken, chunk-size lines and trailers included (e.g. 256K)")
        ->transform(CLI::AsSizeValue(false))
        ->check(CLI::Range(std::uint64_t{1024}, std::uint64_t{1} << 26))
        ->capture_default_str();
    command->add_option("--max-redirects", options.max_redirects, "Redirects followed per URL at most (0: none)")
        ->check(CLI::Range(0u, 50u))
        ->capture_default_str();
    command->add_flag("--no-compression", options.no_compression,
                      "Do not ask for compressed answers (a compressed answer is decoded all the same)");
    command->add_option("--shard", options.shard,
                        "Fetch only the lines whose origin hashes to K of N, for N machines or jobs; K may be k8s "
                        "(JOB_COMPLETION_INDEX) or slurm (SLURM_ARRAY_TASK_ID)")
        ->check(not_empty("K/N"));
    command->add_option("--loops", options.loops,
                        "Event loops fetching at once, each on a thread with its own connections (0: one per core); "
                        "--concurrency, --per-host and --rate are shared out among them")
        ->check(CLI::Range(std::size_t{0}, std::size_t{256}))
        ->capture_default_str();
    command->add_flag("-q,--quiet", options.quiet, "No progress line on a terminal (failures are still reported)");
    add_fetch_strategy_options(*command, options.strategy);
    (void)input;
    return command;
}

int run_fetch(const fetch_options& options)
{
    if (!check_standard_output(command_name))
        return 1;
    // Each file's buffers (TLS records, reads, the body on its way) are freed when it is done and
    // allocated again for the next; with glibc's default the heap's top was handed back to the
    // kernel and faulted in again over and over: 3 page faults a file, 11% of the run's CPU by perf
    // (10,000 x 16 KiB: 32,000 faults, 3,900 with this). Up to 8 MiB of freed heap is kept.
    mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);
    // A reader of stdout or of the report that goes away (`| head`) is a write error, handled as
    // one (the run stops, temporary files are removed, validators saved, exit 1), not a SIGPIPE
    // that kills the process half-way.
    std::signal(SIGPIPE, SIG_IGN);
    // Ctrl-C, SIGTERM and a closed terminal (SIGHUP) stop the run, from now on: a signal while the
    // list is read waits for the loop (cli/stop_signals.hpp); a second ends the program at once.
    // SIGHUP is left ignored when the run was started to ignore it (`nohup`). SIGINT is taken even
    // when ignored: a shell without job control ignores it for its background jobs, and `kill
    // -INT` to one of them means stop.
    struct sigaction hangup{};
    stop_signals signals(::sigaction(SIGHUP, nullptr, &hangup) != 0 || hangup.sa_handler != SIG_IGN);
    const bool to_files = !options.output_dir.empty();
    const bool to_fields = !options.fields.empty();
    const bool report_to_stdout = options.report == "-";
    if (options.input == "-" && options.values == "-")
    {
        report(command_name, "-i - and --values - both read stdin; give one of them a file");
        return 1;
    }
    if (report_to_stdout && !to_files)
    {
        report(command_name, "--report - needs -o DIR: without it, the bodies (or --field lines) go to stdout");
        return 1;
    }
    for (const auto& pointer : options.fields)
        if (auto why = fetch::check_pointer(pointer))
        {
            report(command_name, "--field '" + pointer + "': " + *why);
            return 1;
        }
    fetch::name_pattern pattern;
    if (to_files)
    {
        std::string why;
        auto parsed = fetch::name_pattern::parse(options.name, why);
        if (!parsed)
        {
            report(command_name, "--name: " + why);
            return 1;
        }
        pattern = *parsed;
    }
    fetch::shard part;
    if (!options.shard.empty())
    {
        std::string why;
        auto parsed = fetch::parse_shard(options.shard, fetch::process_environment(), why);
        if (!parsed)
        {
            report(command_name, "--shard " + escape_untrusted(options.shard, false) + ": " + why);
            return 1;
        }
        part = *parsed;
    }
    // A strategy other than async takes its list whole: at most so many.
    const auto kind = chosen_fetch_strategy(options.strategy);
    if (kind && options.loops != 1)
    {
        report(command_name, "--loops runs the async strategy on several event loops; --strategy " +
                                 options.strategy.name + " has threads of its own (--threads N)");
        return 1;
    }
    if (kind && options.concurrency_given && !check_concurrency_applies(command_name, *kind, "--threads N"))
        return 1;
    if (options.strategy.threads_given && !check_threads_apply(command_name, kind.value_or(strategy::async)))
        return 1;
    // The inputs, checked before anything is sent as far as they can be: whole when they can be
    // read twice (files), else as far as `checked_ahead` lines or as far as a quiet pipe has
    // written (stdin, pipes; a bad line further on is that item's failure). A list is then read by
    // a thread of its own as the run goes (cli/url_prefetch.hpp), never held whole, and a slow
    // writer never holds up the event loop.
    url_sources sources{options.urls, options.input, "-i", options.url_template, options.values};
    std::optional<std::size_t> total; // this shard's items, when known
    std::size_t items_seen = 0;
    if (url_reader check(sources); check.rereadable())
    {
        std::size_t kept = 0;
        for (url_ahead line;;)
        {
            line.kind = check.next(line.item, line.why);
            if (line.kind == url_reader::result::end)
                break;
            if (line.kind != url_reader::result::item)
            {
                report(command_name, line.why);
                return 1;
            }
            ++items_seen;
            kept += fetch::in_shard(line.item.url, part) ? 1 : 0;
        }
        total = kept;
    }
    url_prefetcher input(sources, checked_ahead);
    if (!total)
    {
        // A strategy needs its whole list before it starts: no point starting on a quiet pipe.
        input.wait_ahead(checked_ahead,
                         kind ? std::nullopt : std::optional<std::chrono::milliseconds>(quiet_pipe_start));
        std::optional<std::string> bad;
        std::size_t kept = 0;
        input.inspect([&](const url_ahead& line) {
            if (line.kind == url_reader::result::item)
            {
                ++items_seen;
                kept += fetch::in_shard(line.item.url, part) ? 1 : 0;
            }
            else if (line.kind != url_reader::result::end && !bad)
                bad = line.why;
        });
        if (bad)
        {
            report(command_name, *bad);
            return 1;
        }
        if (input.all_ahead())
            total = kept;
    }
    if (items_seen == 0)
    {
        report(command_name, "no URLs to fetch: give them as arguments, with -i FILE, or with --template and "
                             "--values (see 'fxrates fetch --help')");
        return 1;
    }
    const std::size_t most_items = kind == strategy::thread_per_item ? max_thread_per_item : max_strategy_items;
    if (kind && (total ? *total > most_items : most_items < checked_ahead))
    {
        report(command_name, "--strategy " + options.strategy.name + " takes at most " + std::to_string(most_items) +
                                 " URLs" + (total ? " (the list has " + std::to_string(*total) + ")" : "") +
                                 (kind == strategy::thread_per_item ? ": it starts a thread per URL; use thread-pool"
                                                                    : ": it holds the list whole; use async") +
                                 " for longer lists");
        return 1;
    }

    client_params params;
    apply_per_url_time_limit(options.timeout_seconds, params);
    params.max_connections = options.concurrency;
    params.max_connections_per_origin = options.per_host;
    params.retry.max_attempts = options.retries + 1;
    params.max_redirects = options.max_redirects;
    params.header_limit = static_cast<std::size_t>(options.max_header);
    params.accept_compression = !options.no_compression;
    params.rate = options.rate;
    params.burst = options.burst;
    params.body_limit = options.max_size > 0 ? static_cast<std::size_t>(std::min<std::uint64_t>(
                                                   options.max_size, std::numeric_limits<std::size_t>::max()))
                        : to_fields ? field_body_limit
                                    : std::numeric_limits<std::size_t>::max();
    if (!apply_trust_options(command_name, options.trust, params))
        return 1;
    // --loops 0: one per core.
    const loop_shares shares = fetch::share_limits(
        params, options.loops != 0 ? options.loops : std::max(1u, std::thread::hardware_concurrency()));

    // Where things go: the output folder, the report, and stdout in input order; refused before
    // anything is made or opened.
    if (auto why = output_conflict(options, !to_files || report_to_stdout))
    {
        report(command_name, *why);
        return 1;
    }
    fetch::unique_fd root;
    if (to_files)
    {
        std::string why;
        root = fetch::open_output_dir(options.output_dir, true, why);
        if (root.get() < 0)
        {
            report(command_name, "-o " + options.output_dir + ": " + why);
            return 1;
        }
    }
    std::optional<fetch_refresh> validators; // DIR/.fxrates-meta (cli/fetch_refresh.hpp)
    if (to_files)
        validators.emplace(root.get(), options.output_dir);
    fetch::unique_fd report_file;
    if (!options.report.empty() && !report_to_stdout)
    {
        report_file = fetch::unique_fd(::open(options.report.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
        if (report_file.get() < 0)
        {
            report(command_name, "cannot write --report " + options.report + ": " + std::strerror(errno));
            return 1;
        }
    }
    bool stdout_failed = false;
    auto to_stdout = [&](std::string_view text) -> error_code {
        auto ec = fetch::write_all(STDOUT_FILENO, text);
        if (ec && !stdout_failed)
        {
            stdout_failed = true;
            report(command_name, "cannot write standard output: " + ec.message());
        }
        return ec;
    };
    // Whole bodies only: a body that fails half-way leaves nothing of itself on stdout.
    // A body that cannot be held for its turn fails alone; a --field line breaks the output.
    fetch::ordered_output body_out(to_stdout, stdout_memory_bound, fetch::default_spill_dir(), true, !to_fields);
    bool report_failed = false;
    int report_fd = report_to_stdout ? STDOUT_FILENO : report_file.get();
    fetch::ordered_output report_out(
        [&](std::string_view text) -> error_code {
            auto ec = fetch::write_all(report_fd, text);
            if (ec && !report_failed)
            {
                report_failed = true;
                report(command_name, "cannot write --report " + options.report + ": " + ec.message());
            }
            return ec;
        },
        stdout_memory_bound);
    // Bodies waiting their turn for stdout spill to a file each past the memory bound: the window
    // stays within what this process may open (raised to the hard limit first).
    std::size_t window = ordering_window;
    if (!to_files && !to_fields)
    {
        rlimit files{};
        if (::getrlimit(RLIMIT_NOFILE, &files) == 0)
        {
            if (files.rlim_cur < files.rlim_max)
            {
                files.rlim_cur = files.rlim_max;
                ::setrlimit(RLIMIT_NOFILE, &files);
                ::getrlimit(RLIMIT_NOFILE, &files);
            }
            const rlim_t reserved = 64 + 2 * static_cast<rlim_t>(options.concurrency);
            if (files.rlim_cur != RLIM_INFINITY)
                window = std::clamp<std::size_t>(
                    files.rlim_cur > reserved ? static_cast<std::size_t>(files.rlim_cur - reserved) : 0, 16, window);
        }
    }
    const auto own_files = to_files ? own_files_of(options, report_fd) : std::vector<own_file>{};
    fetch_run run({options, to_files, to_fields, !options.report.empty(), root.get(), pattern, part,
                   validators ? &*validators : nullptr, body_out, report_out, stdout_failed, report_failed, own_files,
                   (!to_files && ::isatty(STDOUT_FILENO) == 1) || (report_fd >= 0 && ::isatty(report_fd) == 1)},
                  input, kind ? 0 : window, total);

    // A strategy takes its list whole, before anything is sent (and before Ctrl-C is the run's to
    // handle: until then it ends the process, with nothing sent).
    std::vector<fetch_item> requests;
    if (kind)
        while (auto request = run.next_request_waiting())
        {
            if (requests.size() == most_items)
            {
                run.say_failures();
                report(command_name, "--strategy " + options.strategy.name + " takes at most " +
                                         std::to_string(most_items) + " URLs; use async for longer lists");
                return 1;
            }
            requests.push_back(std::move(*request));
        }

    namespace asio = boost::asio;
    asio::io_context context(1);
    params.api_url = "https://localhost"; // the client's rates API is not used here
    params.thread_safe = false;           // this thread alone runs the loop and uses the client
    client api(context, params);
    asio::cancellation_signal cancel;
    // From any loop's thread: the cancellation itself is emitted on this one.
    run.stop_batch = [&] { asio::post(context, [&] { cancel.emit(asio::cancellation_type::terminal); }); };
    stop_signal_wait on_signal(signals, context, [&](int number) {
        run.signal_number = number;
        // The items stopped now are not done: the line goes, and the summary says what became of them.
        run.progress().finish();
        cancel.emit(asio::cancellation_type::terminal);
    });
    run.progress().start(context.get_executor());
    auto observe = [&](std::size_t index, const fetch_outcome& outcome) { run.observe(index, outcome); };
    // The validators saved so far reach the metadata file at least every second, so that a crash
    // loses at most the last second's (cli/fetch_refresh.hpp).
    asio::steady_timer flush_timer(context);
    // Set when the run ends: a tick already due then completes without an error, and must not
    // arm the timer again (that kept the loop, and the process, alive for ever).
    bool run_over = false;
    std::function<void(const boost::system::error_code&)> flush_validators = [&](const boost::system::error_code& ec) {
        if (ec || run_over)
            return;
        validators->flush();
        flush_timer.expires_after(std::chrono::seconds(1));
        flush_timer.async_wait(flush_validators);
    };
    if (validators)
    {
        flush_timer.expires_after(std::chrono::seconds(1));
        flush_timer.async_wait(flush_validators);
    }
    auto finished = [&] {
        signals.cancel();
        on_signal.cancel();
        run_over = true;
        flush_timer.cancel();
        run.progress().finish();
    };
    // --strategy other than async: the lab's strategy on a thread of its own, told to this loop
    // as the client's batch would be (cli/fetch_strategies.cpp).
    std::optional<strategy_fetch> by_strategy;
    std::optional<loops_fetch> by_loops; // --loops N: cli/fetch_loops.cpp
    // The list's reader may call the loops' wakers until it is stopped: stopped before the loops
    // and their contexts go, an exception included.
    struct input_stopper
    {
        url_prefetcher& input;
        ~input_stopper() { input.stop(); }
    } stop_input_first{input};
    if (kind)
    {
        by_strategy.emplace(context, *kind, options.strategy.threads, params, std::move(requests), observe,
                            cancel.slot(), finished);
    }
    else if (shares.loops > 1)
    {
        auto next = [&](const fetch_waker& wake, std::size_t& number) {
            auto answer = run.next_request(wake);
            if (answer.item)
                number = run.last_number();
            return answer;
        };
        // Bodies to stdout meet in one ordered output: their sinks take the run's lock.
        by_loops.emplace(context, shares, next, observe, !to_files && !to_fields, cancel.slot(), finished);
    }
    else
        api.async_fetch_stream(fetch_feed([&](const fetch_waker& wake) { return run.next_request(wake); }), observe, 0,
                               asio::bind_cancellation_slot(cancel.slot(), [&](error_code) { finished(); }));
    context.run();
    // From here on Ctrl-C stops the program at once: only the summary and the files' records are left.
    signals.cancel();
    // No waker of a loop is called from here on: the loops end with this function.
    input.stop();
    run.say_failures();

    if (validators)
        validators->save();
    if (options.refresh && !options.quiet && validators->not_modified_count() > 0)
        report(command_name, std::to_string(validators->not_modified_count()) + " not modified");
    // Stopped: a list that can be read again is read to its end, so that the lines never read
    // are named (and in the report); a pipe's rest is unknown.
    const auto rest = run.signal_number != 0 && total ? run.report_never_started(sources) : fetch_run::never_started{};
    if (stdout_failed || report_failed)
        return 1;
    if (report_to_stdout || !to_files)
    {
        if (!close_standard_output(command_name))
            return 1;
    }
    if (report_file.get() >= 0 && ::close(report_file.release()) != 0)
    {
        report(command_name, "cannot write --report " + options.report + ": " + std::strerror(errno));
        return 1;
    }
    const std::size_t ended = run.ended(), failed = run.failed(), cut_short = run.cut_short();
    if (run.signal_number != 0)
    {
        const std::size_t not_sent = run.not_sent();
        std::string text = "interrupted; " + std::to_string(ended - cut_short - not_sent - failed) + " of " +
                           std::to_string(ended + rest.count) + " fetched, " + std::to_string(failed) + " failed";
        if (cut_short > 0)
            text += ", not finished (lines of the input): " + run.cut_short_lines() +
                    (cut_short > fetch_run::listed_cut_short ? ", ..." : "");
        text += run.not_started_text(rest);
        if (run.input_left() && !total)
            text += ", the rest of the list not started";
        if (run.partials_kept() > 0)
            text += "; " + std::to_string(run.partials_kept()) + " partial download(s) kept: " +
                    (options.refresh ? "--refresh again resumes them" : "--continue resumes them");
        report(command_name, text);
        return 128 + run.signal_number.load();
    }
    if (failed == 0 && !run.input_failed())
        return 0;
    return failed == ended ? 1 : 2;
}

} // namespace fxrates::cli
