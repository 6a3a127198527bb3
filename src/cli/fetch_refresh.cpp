#include "cli/fetch_refresh.hpp"

#include "cli/fetch/atomic_file.hpp"
#include "cli/fetch/item_sinks.hpp"
#include "cli/fetch/unique_fd.hpp"
#include "cli/output.hpp"

#include <cerrno>
#include <optional>

#include <fcntl.h>
#include <unistd.h>

namespace fxrates::cli {

namespace {

constexpr std::string_view command_name = "fetch";

// A metadata file larger than this is not ours (about 300 bytes a file: a million files fit).
constexpr std::size_t max_meta_size = 1024 * 1024 * 1024;

// The metadata file's text; empty if there is none. nullopt, having warned, if it cannot be read.
std::optional<std::string> read_meta(int root, const std::string& dir)
{
    std::string name(fetch::validators_file_name);
    fetch::unique_fd file{::openat(root, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)};
    if (!file)
    {
        if (errno == ENOENT)
            return std::string();
        report(command_name, "warning: cannot read " + dir + "/" + name + " (" + fetch::errno_text(errno) +
                                 "); every file is fetched again and it is not updated");
        return std::nullopt;
    }
    std::string text;
    char buffer[64 * 1024];
    for (;;)
    {
        auto got = ::read(file.get(), buffer, sizeof buffer);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 || text.size() + static_cast<std::size_t>(got) > max_meta_size)
        {
            report(command_name, "warning: cannot read " + dir + "/" + name + " (" +
                                     (got < 0 ? fetch::errno_text(errno) : std::string("too large")) +
                                     "); every file is fetched again and it is not updated");
            return std::nullopt;
        }
        if (got == 0)
            return text;
        text.append(buffer, static_cast<std::size_t>(got));
    }
}

} // namespace

fetch_refresh::fetch_refresh(int root, std::string dir) : root_(root), dir_(std::move(dir))
{
    auto text = read_meta(root_, dir_);
    if (!text)
    {
        root_ = -1; // unreadable: neither trusted nor overwritten
        return;
    }
    std::size_t ignored = 0;
    known_ = fetch::validator_store::parse(*text, ignored);
    if (ignored > 0)
        report(command_name, "warning: " + std::to_string(ignored) + " unreadable line(s) in " + dir_ + "/" +
                                 std::string(fetch::validators_file_name) +
                                 " skipped; those files are fetched again");
}

std::vector<std::pair<std::string, std::string>> fetch_refresh::conditions(const std::string& name,
                                                                           std::string_view url) const
{
    const auto* entry = known_.find(name);
    if (!entry || root_ < 0)
        return {};
    std::string why;
    auto found = fetch::inspect_file(root_, name, why);
    if (!found || !found->regular)
        return {};
    return fetch::conditional_fields(*entry, url, found->size);
}

void fetch_refresh::saved(const std::string& name, const std::string& url, const fetch_outcome& outcome,
                          std::string sha256)
{
    record({name, url, outcome.etag, outcome.last_modified, outcome.bytes, std::move(sha256)});
}

void fetch_refresh::record(fetch::validator_entry entry)
{
    if (root_ < 0 || !fetch::append_entry_line(std::move(entry), pending_))
        return;
    ++recorded_;
    if (pending_.size() >= flush_size)
        flush();
}

void fetch_refresh::flush()
{
    if (pending_.empty() || root_ < 0)
        return;
    if (!journal_)
    {
        std::string name(fetch::validators_file_name);
        journal_ = fetch::unique_fd(
            ::openat(root_, name.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666));
    }
    // One write of whole lines: a reader never sees half a line, even beside another run.
    if (!journal_ || fetch::write_all(journal_.get(), pending_))
    {
        if (!journal_failed_)
            report(command_name, "warning: the validators cannot be saved in " + dir_ + "/" +
                                     std::string(fetch::validators_file_name) + " (" + fetch::errno_text(errno) +
                                     "); --refresh fetches those files again");
        journal_failed_ = true;
    }
    pending_.clear();
}

std::string fetch_refresh::not_modified(const std::string& name, const fetch_outcome& outcome)
{
    ++not_modified_;
    const auto* entry = known_.find(name);
    if (!entry)
        return {};
    // A 304 may carry the current validators (RFC 9110 15.4.5); keep them if they moved on.
    auto updated = *entry;
    if (!outcome.etag.empty())
        updated.etag = outcome.etag;
    if (!outcome.last_modified.empty())
        updated.last_modified = outcome.last_modified;
    if (!(updated == *entry))
        record(std::move(updated));
    return entry->sha256;
}

void fetch_refresh::save()
{
    flush();
    // Into a folder without validators, every file is saved once: the appended lines are the
    // whole file. Over earlier ones, the file is rewritten with one line a file, sorted.
    if (root_ < 0 || recorded_ == 0 || known_.size() == 0 || journal_failed_)
        return;
    // Read again: another run may have saved other files into the folder meanwhile.
    auto text = read_meta(root_, dir_);
    if (!text)
        return;
    std::size_t ignored = 0;
    auto store = fetch::validator_store::parse(*text, ignored);
    fetch::atomic_file file;
    std::string name(fetch::validators_file_name);
    auto why = file.open(root_, name);
    if (why.empty())
        why = file.write(store.serialize());
    if (why.empty())
        why = file.commit(true);
    if (!why.empty())
        report(command_name, "warning: the validators were not tidied (" + why + "); they stay as they were");
}

} // namespace fxrates::cli
