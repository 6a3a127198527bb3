#include "cli/fetch_command.hpp"

#include "cli/fetch/atomic_file.hpp"
#include "cli/fetch/json_fields.hpp"
#include "cli/fetch/messages.hpp"
#include "cli/fetch/ordered_output.hpp"
#include "cli/fetch/output_names.hpp"
#include "cli/fetch/report.hpp"
#include "cli/fetch/shard.hpp"
#include "cli/fetch/url_list.hpp"
#include "cli/fetch_refresh.hpp"
#include "cli/input_checks.hpp"
#include "cli/output.hpp"
#include "cli/progress.hpp"
#include "cli/url_input.hpp"

#include <fxrates/client.hpp>
#include <fxrates/utf8.hpp>

#include <CLI/CLI.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <filesystem>
#include <cstring>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>

#include <fcntl.h>
#include <unistd.h>

namespace fxrates::cli {

namespace {

using fetch::list_item;

constexpr std::string_view command_name = "fetch";

// Bodies waiting for their turn on stdout are held in memory up to this, then spilled to a file.
constexpr std::size_t stdout_memory_bound = 16 * 1024 * 1024;

// With --field the body is parsed whole, in memory: without --max-size, at most this.
constexpr std::size_t field_body_limit = 64 * 1024 * 1024;

// Most items in one run: each keeps its outcome until the end.
constexpr std::size_t max_items = 1'000'000;

bool is_success_status(unsigned status)
{
    return status >= 200 && status < 300;
}

// The items to fetch, from the arguments, -i, or --template with --values; nullopt, having said
// why, on the first bad one (before anything is sent).
std::optional<std::vector<list_item>> read_items(const fetch_options& options)
{
    std::vector<list_item> items;
    for (std::size_t i = 0; i < options.urls.size(); ++i)
    {
        if (auto why = fetch::check_url(options.urls[i]))
        {
            report(command_name, "argument '" + options.urls[i] + "' is not a URL to fetch: " + *why);
            return std::nullopt;
        }
        items.push_back({i + 1, options.urls[i], {}, {}});
    }
    if (!options.input.empty() && !read_url_list(command_name, options.input, "-i", max_items, items))
        return std::nullopt;
    if (!options.url_template.empty() &&
        !read_template_values(command_name, options.url_template, options.values, max_items, items))
        return std::nullopt;
    return items;
}

// One line for a failed item: where it came from, the URL, and why.
std::string describe_failure(const list_item& item, const fetch_outcome& outcome, const std::string& own_reason)
{
    std::string text = "line " + std::to_string(item.line) + ": " + escape_untrusted(item.url, false) + ": ";
    if (!own_reason.empty())
    {
        // The input checks' messages name the line already.
        std::string_view reason = own_reason;
        if (auto prefix = "line " + std::to_string(item.line) + ": "; reason.starts_with(prefix))
            reason.remove_prefix(prefix.size());
        return text + std::string(reason);
    }
    if (outcome.error.category() == http_category())
        text += "the server answered HTTP " + std::to_string(outcome.error.value());
    else
        text += outcome.error.message();
    if (!outcome.diag.client_message().empty())
        text += " (" + escape_untrusted(outcome.diag.client_message(), false) + ")";
    if (!outcome.diag.server_message().empty())
        text += "; the server says: \"" + escape_untrusted(outcome.diag.server_message(), false) + '"';
    // The library names settings; the command line has flags for them.
    if (outcome.error == condition::tls && outcome.diag.client_message().find("trust its CA") != std::string::npos)
        text += " (--cacert FILE trusts a CA; --insecure skips verification)";
    else if (outcome.error == errc::body_limit)
        text += " (--max-size SIZE raises it)";
    else if (outcome.error == condition::timeout)
        text += " (--timeout SECONDS raises the time per URL)";
    return text;
}

// Writes all of `text` to descriptor `fd`, as an error code.
error_code write_all(int fd, std::string_view text)
{
    while (!text.empty())
    {
        auto written = ::write(fd, text.data(), text.size());
        if (written < 0)
        {
            if (errno == EINTR)
                continue;
            return error_code(errno, boost::system::system_category());
        }
        text.remove_prefix(static_cast<std::size_t>(written));
    }
    return {};
}

// The body of a successful answer (2xx; an error page is neither saved nor printed), hashed for
// the report when asked; what to do with it is the derived sink's.
class success_body_sink : public body_sink
{
public:
    explicit success_body_sink(bool hash)
    {
        if (hash)
            hasher_.emplace();
    }

    error_code begin(unsigned status) final
    {
        passing_ = is_success_status(status);
        if (hasher_)
            hasher_->reset();
        return passing_ ? begin_body() : error_code{};
    }

    error_code write(std::string_view data) final
    {
        if (!passing_)
            return {};
        if (hasher_)
            hasher_->update(data);
        return write_body(data);
    }

    std::string sha256() { return hasher_ ? hasher_->hex_digest() : std::string(); }

    // Why the body could not be kept (the answer was stopped for it), or empty.
    const std::string& failure() const noexcept { return failure_; }

protected:
    virtual error_code begin_body() = 0;
    virtual error_code write_body(std::string_view data) = 0;

    error_code fail(const std::string& why, error_code ec = make_error_code(boost::system::errc::io_error))
    {
        if (why.empty())
            return {};
        failure_ = why;
        return ec;
    }

private:
    bool passing_ = false;
    std::optional<fetch::sha256_hasher> hasher_; // only with --report: a context per item costs
    std::string failure_;
};

// A body on its way to a file under -o: written to a temporary name, and committed or discarded
// when the item ends. Small pieces are gathered into one write: most files then cost one write(2),
// not one per TLS record.
class file_sink final : public success_body_sink
{
public:
    // `name` must outlive the sink.
    file_sink(int root, const std::string& name, bool hash) : success_body_sink(hash), root_(root), name_(name) {}

    // Gives the file its name; why not, if it could not be.
    std::string commit(bool overwrite)
    {
        // A successful answer with no body part at all (a 204) still makes its (empty) file.
        if (!file_)
            if (auto why = open(); !why.empty())
                return why;
        if (flush())
            return failure();
        std::string().swap(pending_);
        return file_->commit(overwrite);
    }

    void discard() noexcept
    {
        if (file_)
            file_->discard();
    }

private:
    static constexpr std::size_t gather_limit = 32 * 1024;

    error_code begin_body() override
    {
        pending_.clear();
        return fail(file_ ? file_->reset() : open());
    }

    error_code write_body(std::string_view data) override
    {
        if (pending_.size() + data.size() <= gather_limit)
        {
            pending_.append(data);
            return {};
        }
        if (auto ec = flush())
            return ec;
        if (data.size() < gather_limit)
        {
            pending_.append(data);
            return {};
        }
        return fail(file_->write(data));
    }

    error_code flush()
    {
        if (pending_.empty())
            return {};
        auto ec = fail(file_->write(pending_));
        pending_.clear();
        return ec;
    }

    std::string open()
    {
        file_ = std::make_unique<fetch::atomic_file>();
        return file_->open(root_, name_);
    }

    int root_;
    const std::string& name_;
    // Made when the answer begins: a sink waiting its turn in a long list holds little.
    std::unique_ptr<fetch::atomic_file> file_;
    std::string pending_;
};

// A body on its way to stdout, in input order, through the ordered output.
class ordered_sink final : public success_body_sink
{
public:
    ordered_sink(fetch::ordered_output& out, std::size_t index, bool hash)
        : success_body_sink(hash), out_(out), index_(index)
    {
    }

    // Standard output itself failed (a full disk, a closed pipe): the run stops.
    bool output_failed() const noexcept { return output_failed_; }

private:
    error_code begin_body() override { return take(out_.begin(index_)); }
    error_code write_body(std::string_view data) override { return take(out_.write(index_, data)); }

    error_code take(const fetch::output_status& status)
    {
        if (!status.failed())
            return {};
        output_failed_ = status.code.failed();
        return fail(status.message, status.code ? status.code : make_error_code(boost::system::errc::io_error));
    }

    fetch::ordered_output& out_;
    std::size_t index_;
    bool output_failed_ = false;
};

// A report line's timings, in milliseconds from the item's start.
void fill_timing(const request_timing& timing, fetch::report_record& record)
{
    using time_point = request_timing::time_point;
    auto since = [&](time_point from, time_point to) -> std::optional<double> {
        if (from == time_point{} || to == time_point{})
            return std::nullopt;
        return std::chrono::duration<double, std::milli>(to - from).count();
    };
    record.queued_ms = since(timing.queued, timing.granted);
    record.connect_ms = timing.reused_connection ? std::optional<double>(0) : since(timing.started, timing.connected);
    record.tls_ms = timing.reused_connection ? std::optional<double>(0) : since(timing.connected, timing.tls_done);
    record.first_byte_ms = since(timing.tls_done, timing.first_byte);
    record.total_ms = since(timing.queued, timing.done);
}

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
    auto* values = command->add_option("--values", options.values, "Values for --template, one a line ('-' for stdin)")
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
    command->add_flag("--refresh", options.refresh,
                      "Fetch again into a folder of an earlier run, asking for changed files only (If-None-Match); "
                      "unchanged files are not written")
        ->needs(output);
    auto* field = command->add_option("--field", options.fields,
                                      "Print this field of each JSON answer (a JSON pointer such as /rates/EUR); "
                                      "repeat for more, tab-separated, one line per URL")
                      ->excludes(output);
    (void)field;
    command->add_option("--report", options.report,
                        "Write one JSON line per URL, in input order, to FILE ('-' for stdout): status, bytes, "
                        "sha256, file, timings, error")
        ->check(not_empty("a file name"));
    add_trust_options(*command, options.trust, nullptr, "Also trust the certificate authorities in this PEM file",
                      "Do not verify servers' certificates (only for servers you control)");
    command->add_option("--concurrency", options.concurrency, "Most connections open at once, all hosts together")
        ->check(CLI::Range(std::size_t{1}, std::size_t{10000}))
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
                        "Retry-After and is no retry)")
        ->check(CLI::Range(0u, 10u))
        ->capture_default_str();
    command->add_option("--timeout", options.timeout_seconds, "Seconds each URL may take, retries included")
        ->check(finite_number({.min = 0.001, .max = 86400}))
        ->capture_default_str();
    command->add_option("--max-size", options.max_size,
                        "Largest body taken, after decompression (e.g. 100M); larger fails that URL")
        ->transform(CLI::AsSizeValue(false))
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 50));
    command->add_option("--max-redirects", options.max_redirects, "Redirects followed per URL at most (0: none)")
        ->check(CLI::Range(0u, 50u))
        ->capture_default_str();
    command->add_flag("--no-compression", options.no_compression,
                      "Do not ask for compressed answers (a compressed answer is decoded all the same)");
    command->add_option("--shard", options.shard,
                        "Fetch only the lines whose origin hashes to K of N, for N machines or jobs; K may be k8s "
                        "(JOB_COMPLETION_INDEX) or slurm (SLURM_ARRAY_TASK_ID)")
        ->check(not_empty("K/N"));
    command->add_flag("-q,--quiet", options.quiet, "No progress line on a terminal (failures are still reported)");
    add_fetch_strategy_options(*command, options.strategy);
    (void)input;
    return command;
}

int run_fetch(const fetch_options& options)
{
    if (!check_standard_output(command_name))
        return 1;
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
    auto items = read_items(options);
    if (!items)
        return 1;
    if (items->empty())
    {
        report(command_name, "no URLs to fetch: give them as arguments, with -i FILE, or with --template and "
                             "--values (see 'fxrates fetch --help')");
        return 1;
    }
    // Other shards' lines are not part of this run; `position` keeps the input's numbering (the
    // report's index, {index}) so that the shards' reports and files merge. A shard may be empty.
    const std::vector<std::size_t> position = fetch::keep_shard(*items, part);

    client_params params;
    apply_time_limit(options.timeout_seconds, params);
    params.max_connections = options.concurrency;
    params.max_connections_per_origin = options.per_host;
    params.retry.max_attempts = options.retries + 1;
    params.max_redirects = options.max_redirects;
    params.accept_compression = !options.no_compression;
    params.rate = options.rate;
    params.burst = options.burst;
    params.body_limit = options.max_size > 0 ? static_cast<std::size_t>(std::min<std::uint64_t>(
                                                   options.max_size, std::numeric_limits<std::size_t>::max()))
                        : to_fields ? field_body_limit
                                    : std::numeric_limits<std::size_t>::max();
    if (!apply_trust_options(command_name, options.trust, params))
        return 1;

    // Where things go: the output folder, the report, and stdout in input order.
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
        auto ec = write_all(STDOUT_FILENO, text);
        if (ec && !stdout_failed)
        {
            stdout_failed = true;
            report(command_name, "cannot write standard output: " + ec.message());
        }
        return ec;
    };
    // Whole bodies only: a body that fails half-way leaves nothing of itself on stdout.
    fetch::ordered_output body_out(to_stdout, stdout_memory_bound, fetch::default_spill_dir(), true);
    bool report_failed = false;
    int report_fd = report_to_stdout ? STDOUT_FILENO : report_file.get();
    fetch::ordered_output report_out(
        [&](std::string_view text) -> error_code {
            auto ec = write_all(report_fd, text);
            if (ec && !report_failed)
            {
                report_failed = true;
                report(command_name, "cannot write --report " + options.report + ": " + ec.message());
            }
            return ec;
        },
        stdout_memory_bound);
    const bool hash = !options.report.empty();

    // Each item's state; an item refused before sending (its name) fails without a request.
    const std::size_t count = items->size();
    std::vector<std::string> own_failure(count);
    std::vector<std::string> file_names(count);
    std::vector<std::unique_ptr<file_sink>> file_sinks(to_files ? count : 0);
    std::vector<std::unique_ptr<ordered_sink>> stdout_sinks(!to_files && !to_fields ? count : 0);
    std::vector<fetch_item> requests;
    std::vector<std::size_t> item_of_request;
    requests.reserve(count);
    item_of_request.reserve(count);
    fetch::name_registry taken;
    for (std::size_t i = 0; i < count; ++i)
    {
        auto& item = (*items)[i];
        fetch_item request{item.url, nullptr, {}};
        if (to_files)
        {
            auto name = fetch::build_name(pattern, item, position[i]);
            if (!name.ok())
            {
                own_failure[i] = name.error;
                continue;
            }
            if (name.name == fetch::validators_file_name)
            {
                own_failure[i] = fetch::line_prefix(item.line) + escape_untrusted(name.name, false) +
                                 " is where fetch keeps the folder's validators; give the file another name";
                continue;
            }
            if (auto clash = taken.claim(name.name, item.line))
            {
                own_failure[i] = *clash;
                continue;
            }
            std::string why;
            auto exists = fetch::file_exists(root.get(), name.name, why);
            if (!exists)
            {
                own_failure[i] = why;
                continue;
            }
            if (*exists && options.refresh)
                request.fields = validators->conditions(name.name, item.url);
            else if (*exists && !options.overwrite)
            {
                own_failure[i] = escape_untrusted(name.name, false) + " exists in " + options.output_dir +
                                 " and is kept (--overwrite replaces it)";
                continue;
            }
            file_names[i] = std::move(name.name);
            file_sinks[i] = std::make_unique<file_sink>(root.get(), file_names[i], hash);
            request.sink = file_sinks[i].get();
        }
        else if (!to_fields)
        {
            stdout_sinks[i] = std::make_unique<ordered_sink>(body_out, i, hash);
            request.sink = stdout_sinks[i].get();
        }
        requests.push_back(std::move(request));
        item_of_request.push_back(i);
    }

    progress_display progress(std::string(command_name), count, standard_error_is_terminal() && !options.quiet);
    std::vector<bool> succeeded(count, false);
    std::size_t failed = 0;
    std::vector<std::string> failure_lines; // said at the end when progress did not say them
    std::vector<bool> cut_short(count, false); // stopped by Ctrl-C: listed at the end, not as failures
    int signal_number = 0;

    // One item ends: its file is committed or removed, its stdout turn or --field line taken, its
    // report line written, and progress told.
    std::function<void()> stop_batch;
    auto end_item = [&](std::size_t i, const fetch_outcome& outcome) {
        auto& item = (*items)[i];
        bool ok = outcome.ok() && own_failure[i].empty();
        // Only a conditional request gets a 304: the file on disk is current and stays untouched.
        const bool not_modified = ok && outcome.status == 304;
        std::string why = own_failure[i];
        std::string sha;
        std::string field_line;
        if (file_sinks.size() > i && file_sinks[i])
        {
            auto& sink = *file_sinks[i];
            if (!sink.failure().empty())
                why = "cannot save: " + sink.failure();
            if (not_modified)
                sha = validators->not_modified(file_names[i], outcome);
            else if (ok)
            {
                sha = sink.sha256();
                if (auto cannot = sink.commit(options.overwrite || options.refresh); !cannot.empty())
                {
                    ok = false;
                    why = "cannot save: " + cannot;
                }
                else
                    validators->saved(file_names[i], item.url, outcome, hash ? sha : std::string());
            }
            if (!ok || not_modified)
                sink.discard();
            file_sinks[i].reset(); // its descriptors go now, not at the end of a long run
        }
        else if (stdout_sinks.size() > i && stdout_sinks[i])
        {
            auto& sink = *stdout_sinks[i];
            if (!sink.failure().empty())
                why = sink.failure();
            if (ok)
                sha = sink.sha256();
            if (sink.output_failed() && stop_batch)
                stop_batch();
            stdout_sinks[i].reset();
        }
        else if (to_fields && ok)
        {
            std::string reason;
            if (!fetch::extract_fields(outcome.body, options.fields, field_line, reason))
            {
                ok = false;
                why = reason;
            }
            else if (hash)
            {
                fetch::sha256_hasher hasher;
                hasher.update(outcome.body);
                sha = hasher.hex_digest();
            }
        }
        if (!to_files && !stdout_failed)
        {
            if (to_fields && ok)
            {
                body_out.begin(i);
                body_out.write(i, field_line + "\n");
            }
            if (body_out.finish(i, ok).code && stop_batch)
                stop_batch();
        }
        if (hash && !report_failed)
        {
            fetch::report_record record;
            record.index = position[i] + 1;
            record.line = item.line;
            record.url = item.url;
            record.final_url = outcome.final_url;
            record.status = outcome.status;
            record.bytes = outcome.bytes;
            record.sha256 = sha;
            record.file = ok && to_files ? file_names[i] : std::string();
            record.content_type = outcome.content_type;
            record.attempts = outcome.attempts;
            fill_timing(outcome.timing, record);
            record.ok = ok;
            record.not_modified = not_modified;
            if (!ok)
            {
                record.error_category = outcome.error ? outcome.error.category().name() : "fxrates.fetch";
                record.error_message = why.empty() ? describe_failure(item, outcome, {}) : why;
            }
            report_out.begin(i);
            report_out.write(i, fetch::report_line(record) + "\n");
            if (report_out.finish(i, true).code && stop_batch)
                stop_batch();
        }
        succeeded[i] = ok;
        if (!ok && signal_number != 0 && outcome.error == condition::cancelled)
        {
            cut_short[i] = true;
            progress.record(true, {});
        }
        else if (!ok)
        {
            ++failed;
            auto line = describe_failure(item, outcome, why);
            progress.record(false, [&] { return line; });
            if (!progress.enabled())
                failure_lines.push_back(std::move(line));
        }
        else
            progress.record(true, {});
    };

    // Items refused before sending end first (their order in the outputs is kept all the same).
    for (std::size_t i = 0; i < count; ++i)
        if (!own_failure[i].empty())
        {
            fetch_outcome refused;
            refused.url = (*items)[i].url;
            end_item(i, refused);
        }

    namespace asio = boost::asio;
    asio::io_context context(1);
    params.api_url = "https://localhost"; // the client's rates API is not used here
    client api(context, params);
    asio::signal_set signals(context, SIGINT, SIGTERM);
    asio::cancellation_signal cancel;
    stop_batch = [&] { cancel.emit(asio::cancellation_type::terminal); };
    signals.async_wait([&](const boost::system::error_code& ec, int number) {
        if (ec)
            return;
        signal_number = number;
        cancel.emit(asio::cancellation_type::terminal);
    });
    progress.start(context.get_executor());
    auto observe = [&](std::size_t request_index, const fetch_outcome& outcome) {
        end_item(item_of_request[request_index], outcome);
    };
    auto finished = [&] {
        signals.cancel();
        progress.finish();
    };
    // --strategy other than async: the lab's strategy on a thread of its own, told to this loop
    // as the client's batch would be (cli/fetch_strategies.cpp).
    std::optional<strategy_fetch> by_strategy;
    if (auto kind = chosen_fetch_strategy(options.strategy))
        by_strategy.emplace(context, *kind, options.strategy.threads, params, std::move(requests), observe,
                            cancel.slot(), finished);
    else
        api.async_fetch_batch(std::move(requests), observe,
                              asio::bind_cancellation_slot(cancel.slot(), [&](error_code, std::vector<fetch_outcome>) {
                                  finished();
                              }));
    context.run();
    progress.finish();

    for (const auto& line : failure_lines)
        report(command_name, line);
    if (validators)
        validators->save();
    if (options.refresh && !options.quiet)
        report(command_name, std::to_string(validators->not_modified_count()) + " not modified");
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
    if (signal_number != 0)
    {
        std::string unfinished;
        std::size_t listed = 0, not_done = 0;
        for (std::size_t i = 0; i < count; ++i)
            if (cut_short[i])
            {
                ++not_done;
                if (listed++ < 20)
                    unfinished += (unfinished.empty() ? "" : ", ") + std::to_string((*items)[i].line);
            }
        report(command_name, "interrupted; " + std::to_string(count - not_done - failed) + " of " +
                                 std::to_string(count) + " fetched, " + std::to_string(failed) + " failed" +
                                 (not_done ? ", not finished (lines of the input): " + unfinished +
                                                 (not_done > 20 ? ", ..." : "")
                                           : ""));
        return 128 + signal_number;
    }
    if (failed == 0)
        return 0;
    return failed == count ? 1 : 2;
}

} // namespace fxrates::cli
