#include "cli/fetch_refresh.hpp"

#include <fxrates/utf8.hpp>

#include "cli/fetch/atomic_file.hpp"
#include "cli/fetch/item_sinks.hpp"
#include "cli/fetch/unique_fd.hpp"
#include "cli/output.hpp"

#include "cli/fetch/line_reader.hpp"

#include <cerrno>
#include <optional>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fxrates::cli {

namespace {

constexpr std::string_view command_name = "fetch";

// The longest line of the metadata file: a URL (64 KiB), a name (4 KiB), two validators (1 KiB
// each), escaped.
constexpr std::size_t max_meta_line = 160 * 1024;

// Holds a flock on the output folder: shared to read the metadata file, exclusive to change it.
class folder_lock
{
public:
    folder_lock(int folder, int how) : folder_(::flock(folder, how) == 0 ? folder : -1) {}
    ~folder_lock()
    {
        if (folder_ >= 0)
            ::flock(folder_, LOCK_UN);
    }
    folder_lock(const folder_lock&) = delete;
    folder_lock& operator=(const folder_lock&) = delete;

private:
    int folder_;
};

std::string meta_path(const std::string& dir)
{
    return dir + "/" + std::string(fetch::validators_file_name);
}

// The metadata file, open for reading; none if there is none. False, having warned, if it cannot
// be read (or is not a regular file).
bool open_meta(int root, const std::string& dir, fetch::unique_fd& file)
{
    std::string name(fetch::validators_file_name);
    file.reset(::openat(root, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    struct stat info{};
    if (!file && errno == ENOENT)
        return true;
    if (!file || ::fstat(file.get(), &info) != 0 || !S_ISREG(info.st_mode))
    {
        report(command_name, "warning: cannot read " + meta_path(dir) + " (" +
                                 (file ? std::string("not a regular file") : fetch::errno_text(errno)) +
                                 "); every file is fetched again and it is not updated");
        file.reset();
        return false;
    }
    return true;
}

// Indexes `file` from its start; counts the lines that are not entries in `ignored`. False, having
// warned, if it cannot be read.
bool index_meta(int file, const std::string& dir, fetch::validator_index& index, std::size_t& ignored)
{
    fetch::line_reader lines(file, max_meta_line);
    std::string line;
    for (;;)
    {
        switch (lines.next(line))
        {
        case fetch::line_reader::status::line:
            if (!index.add(line, lines.line_offset()) && line.find_first_not_of(" \t\r") != std::string::npos)
                ++ignored;
            break;
        case fetch::line_reader::status::too_long:
            ++ignored;
            break;
        case fetch::line_reader::status::end:
            return true;
        case fetch::line_reader::status::stopped:
        case fetch::line_reader::status::failed:
            report(command_name, "warning: cannot read " + meta_path(dir) + " (" + fetch::errno_text(lines.error()) +
                                     "); every file is fetched again and it is not updated");
            return false;
        }
    }
}

// The line of `file` that begins at `offset`.
std::optional<std::string> read_line_at(int file, std::uint64_t offset)
{
    std::string line;
    char buffer[4096];
    while (line.size() <= max_meta_line)
    {
        auto got = ::pread(file, buffer, sizeof buffer, static_cast<off_t>(offset + line.size()));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return got == 0 && !line.empty() ? std::optional<std::string>(std::move(line)) : std::nullopt;
        std::string_view chunk(buffer, static_cast<std::size_t>(got));
        auto newline = chunk.find('\n');
        line.append(chunk.substr(0, newline));
        if (newline != std::string_view::npos)
            return line;
    }
    return std::nullopt;
}

} // namespace

fetch_refresh::fetch_refresh(int root, std::string dir) : root_(root), dir_(std::move(dir))
{
    folder_lock shared(root_, LOCK_SH);
    std::size_t ignored = 0;
    if (!open_meta(root_, dir_, meta_) || (meta_ && !index_meta(meta_.get(), dir_, index_, ignored)))
    {
        root_ = -1; // unreadable: neither trusted nor overwritten
        meta_.reset();
        return;
    }
    if (ignored > 0)
        report(command_name, "warning: " + std::to_string(ignored) + " unreadable line(s) in " + meta_path(dir_) +
                                 " skipped; those files are fetched again");
}

std::optional<fetch::validator_entry> fetch_refresh::known(const std::string& name) const
{
    auto offset = index_.find(name);
    if (!offset || !meta_)
        return std::nullopt;
    auto line = read_line_at(meta_.get(), *offset);
    if (!line)
        return std::nullopt;
    auto entry = fetch::parse_entry_line(*line);
    // Another name with the same hash: as if it had no entry.
    if (!entry || entry->file != name)
        return std::nullopt;
    return entry;
}

std::optional<fetch_refresh::condition> fetch_refresh::conditions(const std::string& name, std::string_view url) const
{
    if (root_ < 0)
        return std::nullopt;
    auto entry = known(name);
    if (!entry)
        return std::nullopt;
    std::string why;
    auto found = fetch::inspect_file(root_, name, why);
    if (!found || !found->regular)
        return std::nullopt;
    auto fields = fetch::conditional_fields(*entry, url, found->size, found->mtime_ns);
    if (fields.empty())
        return std::nullopt;
    return condition{std::move(fields), std::move(*entry)};
}

std::string fetch_refresh::unlike_saved(const std::string& name, std::string_view url) const
{
    if (root_ < 0)
        return {};
    auto entry = known(name);
    if (!entry)
        return {};
    if (entry->url != url)
        return "was saved from another URL, " + escape_untrusted(entry->url, false);
    std::string why;
    auto found = fetch::inspect_file(root_, name, why);
    if (!found)
        return {};
    if (found->size != entry->bytes)
        return "is " + std::to_string(found->size) + " bytes where " + std::to_string(entry->bytes) +
               " were saved: it was cut or changed since";
    if (entry->mtime_ns != 0 && found->mtime_ns != entry->mtime_ns)
        return "was changed since it was saved (its modification time is not the one saved)";
    return {};
}

void fetch_refresh::saved(const std::string& name, const std::string& url, const fetch_outcome& outcome,
                          std::string sha256, std::int64_t mtime_ns)
{
    record({name, url, outcome.etag, outcome.last_modified, outcome.bytes, std::move(sha256), mtime_ns});
}

void fetch_refresh::record(fetch::validator_entry entry)
{
    std::lock_guard hold(lock_);
    if (root_ < 0 || !fetch::append_entry_line(std::move(entry), pending_))
        return;
    ++recorded_;
    if (pending_.size() >= flush_size)
        flush_locked();
}

void fetch_refresh::flush()
{
    std::lock_guard hold(lock_);
    flush_locked();
}

void fetch_refresh::flush_locked()
{
    if (pending_.empty() || root_ < 0)
        return;
    std::error_code failure;
    {
        folder_lock exclusive(root_, LOCK_EX);
        // Opened by name each time: another run's rewrite may have replaced the file.
        std::string name(fetch::validators_file_name);
        fetch::unique_fd journal(
            ::openat(root_, name.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666));
        if (!journal)
            failure = std::error_code(errno, std::generic_category());
        // One write of whole lines: a reader never sees half a line.
        else if (auto ec = fetch::write_all(journal.get(), pending_))
            failure = std::error_code(ec.value(), std::generic_category());
    }
    if (failure && !journal_failed_)
        report(command_name, "warning: the validators cannot be saved in " + meta_path(dir_) + " (" +
                                 failure.message() + "); --refresh fetches those files again");
    journal_failed_ = journal_failed_ || static_cast<bool>(failure);
    pending_.clear();
}

std::string fetch_refresh::not_modified(const fetch::validator_entry* entry, const fetch_outcome& outcome)
{
    {
        std::lock_guard hold(lock_);
        ++not_modified_;
    }
    if (!entry)
        return {};
    const auto& known = *entry;
    // A 304 may carry the current validators (RFC 9110 15.4.5); keep them if they moved on.
    auto updated = known;
    if (!outcome.etag.empty())
        updated.etag = outcome.etag;
    if (!outcome.last_modified.empty())
        updated.last_modified = outcome.last_modified;
    if (!(updated == known))
        record(std::move(updated));
    return known.sha256;
}

std::size_t fetch_refresh::not_modified_count() const
{
    std::lock_guard hold(lock_);
    return not_modified_;
}

void fetch_refresh::save()
{
    std::lock_guard hold(lock_);
    flush_locked();
    // Into a folder without validators, every file is saved once: the appended lines are the
    // whole file. Over earlier ones, the file is rewritten with the latest line of each file.
    if (root_ < 0 || recorded_ == 0 || index_.size() == 0 || journal_failed_)
        return;
    folder_lock exclusive(root_, LOCK_EX);
    // Read again, under the lock: other runs may have appended meanwhile.
    fetch::unique_fd current;
    fetch::validator_index latest;
    std::size_t ignored = 0;
    if (!open_meta(root_, dir_, current) || !current || !index_meta(current.get(), dir_, latest, ignored))
        return;
    fetch::atomic_file file;
    auto why = file.open(root_, fetch::validators_file_name);
    if (why.empty() && ::lseek(current.get(), 0, SEEK_SET) != 0)
        why = "cannot read it again: " + fetch::errno_text(errno);
    // The second pass keeps the latest line of each file, in the order they were written.
    std::string kept;
    fetch::line_reader lines(current.get(), max_meta_line);
    for (std::string line; why.empty();)
    {
        auto got = lines.next(line);
        if (got == fetch::line_reader::status::end)
            break;
        if (got == fetch::line_reader::status::failed || got == fetch::line_reader::status::stopped)
            why = "cannot read it again: " + fetch::errno_text(lines.error());
        else if (got == fetch::line_reader::status::line)
            if (auto entry = fetch::parse_entry_line(line); entry && latest.find(entry->file) == lines.line_offset())
            {
                kept += line;
                kept += '\n';
                if (kept.size() >= flush_size)
                {
                    why = file.write(kept);
                    kept.clear();
                }
            }
    }
    if (why.empty())
        why = file.write(kept);
    if (why.empty())
        why = file.commit(true);
    if (!why.empty())
        report(command_name, "warning: the validators were not tidied (" + why + "); they stay as they were");
}

} // namespace fxrates::cli
