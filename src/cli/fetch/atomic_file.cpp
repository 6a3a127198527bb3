#include "cli/fetch/atomic_file.hpp"
#include "cli/fetch/messages.hpp"
#include "cli/fetch/output_names.hpp"

#include <fxrates/utf8.hpp>

#include <cerrno>
#include <algorithm>
#include <cstdio>
#include <vector>

#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fxrates::cli::fetch {

namespace {

// The longest file name component Linux file systems take (NAME_MAX).
constexpr std::size_t max_component = 255;
constexpr std::string_view temporary_marker = ".fxrates-";
constexpr std::size_t random_length = 6;

// The `/`-separated components of `name`; empty if the name is not confined (output_names refuses
// such names first; this is the second line of defence).
std::vector<std::string> components(std::string_view name)
{
    std::vector<std::string> parts;
    if (check_confined(name))
        return parts;
    for (;;)
    {
        auto slash = name.find('/');
        parts.emplace_back(name.substr(0, slash));
        if (slash == std::string_view::npos)
            return parts;
        name.remove_prefix(slash + 1);
    }
}

// Opens folder `part` in `parent` without following a symbolic link, creating it first if asked.
unique_fd open_folder(int parent, const std::string& part, bool create)
{
    if (create && ::mkdirat(parent, part.c_str(), 0777) != 0 && errno != EEXIST)
        return {};
    return unique_fd{::openat(parent, part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)};
}

std::string folder_failure(std::string_view name, const std::string& part, int error)
{
    std::string reason = error == ELOOP || error == ENOTDIR
                             ? "is a symbolic link or not a folder; fxrates never follows links inside the "
                               "output folder"
                             : errno_text(error);
    return "cannot write " + quoted(name) + ": " + quoted(part) + " " + reason;
}

// The folder a name's last part lives in: `root` itself, borrowed, for a name without folders (no
// dup and no close per file: most names have none), or a folder below it, owned.
struct folder_ref
{
    unique_fd owned;
    int fd = -1;

    explicit operator bool() const noexcept { return fd >= 0; }
};

// Opens the folders of all but the last of `parts` in turn, below `root`. An invalid reference on
// failure, with `why` set; without `create`, a folder that does not exist leaves `why` empty.
folder_ref walk(int root, std::string_view name, const std::vector<std::string>& parts, bool create,
                std::string& why)
{
    folder_ref folder;
    folder.fd = root;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i)
    {
        folder.owned = open_folder(folder.fd, parts[i], create);
        folder.fd = folder.owned.get();
        if (!folder.owned)
        {
            why = !create && errno == ENOENT ? std::string{} : folder_failure(name, parts[i], errno);
            return {};
        }
    }
    return folder;
}

// Random characters for a temporary name: unpredictable, so that another process cannot plant a
// file or link under the name before we create it (O_EXCL refuses it anyway; this avoids retries).
// One getrandom per process seeds a generator; a system call per file would cost more than it adds.
std::string random_suffix()
{
    static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    thread_local std::uint64_t state = [] {
        std::uint64_t seed = 0;
        if (::getrandom(&seed, sizeof seed, 0) != static_cast<ssize_t>(sizeof seed))
            seed = static_cast<std::uint64_t>(::getpid()) * 0x9e3779b97f4a7c15ULL; // no entropy yet: O_EXCL still guards
        return seed;
    }();
    // splitmix64: every output of a 64-bit state, well mixed.
    state += 0x9e3779b97f4a7c15ULL;
    std::uint64_t mixed = state;
    mixed = (mixed ^ (mixed >> 30)) * 0xbf58476d1ce4e5b9ULL;
    mixed = (mixed ^ (mixed >> 27)) * 0x94d049bb133111ebULL;
    mixed ^= mixed >> 31;
    std::string suffix;
    for (std::size_t i = 0; i < random_length; ++i, mixed /= (sizeof alphabet - 1))
        suffix += alphabet[mixed % (sizeof alphabet - 1)];
    return suffix;
}

// `leaf` cut to at most `room` bytes, at a UTF-8 character boundary.
std::string_view cut_leaf(std::string_view leaf, std::size_t room)
{
    return leaf.substr(0, utf8_prefix_length(leaf, room));
}

// `.LEAF.fxrates-XXXXXX`, with LEAF cut (at a character boundary) to keep within NAME_MAX.
std::string temporary_name(std::string_view leaf)
{
    return '.' + std::string(cut_leaf(leaf, max_component - 1 - temporary_marker.size() - random_length)) +
           std::string(temporary_marker) + random_suffix();
}

constexpr std::string_view partial_marker = ".fxrates-partial";
constexpr std::string_view note_suffix = ".json";
constexpr std::size_t max_note_size = 64 * 1024;

// `.LEAF.fxrates-partial`, with LEAF cut to keep the note's name within NAME_MAX.
std::string partial_name(std::string_view leaf)
{
    return '.' + std::string(cut_leaf(leaf, max_component - 1 - partial_marker.size() - note_suffix.size())) +
           std::string(partial_marker);
}

std::string note_name(std::string_view leaf)
{
    return partial_name(leaf) + std::string(note_suffix);
}

// Writes `text` as the whole of `name` in `folder` (no link followed).
int write_whole(int folder, const std::string& name, std::string_view text)
{
    unique_fd file{::openat(folder, name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644)};
    if (!file)
        return errno;
    while (!text.empty())
    {
        ssize_t written = ::write(file.get(), text.data(), text.size());
        if (written < 0 && errno == EINTR)
            continue;
        if (written < 0)
            return errno;
        text.remove_prefix(static_cast<std::size_t>(written));
    }
    return ::close(file.release()) == 0 ? 0 : errno;
}

} // namespace

unique_fd open_output_dir(const std::string& path, bool create, std::string& why)
{
    // Each folder on the way too, as `mkdir -p`, wget's -P and curl's --create-dirs do: `-o
    // runs/$TASK_ID` needs no mkdir first.
    for (std::size_t end = path.find('/', 1); create; end = path.find('/', end + 1))
    {
        const std::string folder = path.substr(0, end);
        if (::mkdir(folder.c_str(), 0777) != 0 && errno != EEXIST)
        {
            why = "cannot create the output folder " + quoted(folder) + ": " + errno_text(errno);
            return {};
        }
        if (end == std::string::npos)
            break;
    }
    unique_fd fd{::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (!fd)
        why = "cannot open the output folder " + quoted(path) + ": " + errno_text(errno);
    return fd;
}

std::optional<bool> file_exists(int root, std::string_view name, std::string& why)
{
    auto found = inspect_file(root, name, why);
    return found ? std::optional<bool>(found->exists) : std::nullopt;
}

std::optional<existing_file> inspect_file(int root, std::string_view name, std::string& why)
{
    why.clear();
    auto parts = components(name);
    if (parts.empty())
    {
        why = "cannot check " + quoted(name) + ": it is not a relative name below the output folder";
        return std::nullopt;
    }
    auto folder = walk(root, name, parts, false, why);
    if (!folder)
        return why.empty() ? std::optional<existing_file>(existing_file{}) : std::nullopt;
    struct stat status;
    if (::fstatat(folder.fd, parts.back().c_str(), &status, AT_SYMLINK_NOFOLLOW) == 0)
        return existing_file{true,
                             S_ISREG(status.st_mode),
                             static_cast<std::uint64_t>(status.st_size),
                             static_cast<std::int64_t>(status.st_mtim.tv_sec) * 1'000'000'000 + status.st_mtim.tv_nsec,
                             static_cast<std::uint64_t>(status.st_dev),
                             static_cast<std::uint64_t>(status.st_ino)};
    if (errno == ENOENT)
        return existing_file{};
    why = "cannot check " + quoted(name) + ": " + errno_text(errno);
    return std::nullopt;
}

atomic_file& atomic_file::operator=(atomic_file&& other) noexcept
{
    if (this != &other)
    {
        discard();
        name_ = std::move(other.name_);
        leaf_ = std::move(other.leaf_);
        temporary_ = std::move(other.temporary_);
        owned_folder_ = std::move(other.owned_folder_);
        folder_ = std::exchange(other.folder_, -1);
        file_ = std::move(other.file_);
        size_ = other.size_;
        partial_ = std::exchange(other.partial_, false);
        other.temporary_.clear();
    }
    return *this;
}

atomic_file::~atomic_file()
{
    discard();
}

std::string atomic_file::place(int root, std::string_view name)
{
    discard();
    name_ = std::string(name);
    size_ = 0;
    auto parts = components(name);
    if (parts.empty())
        return "cannot write " + quoted(name) + ": it is not a relative name below the output folder";
    std::string why;
    auto folder = walk(root, name, parts, true, why);
    if (!folder)
        return why;
    owned_folder_ = std::move(folder.owned);
    folder_ = folder.fd;
    leaf_ = parts.back();
    return {};
}

std::string atomic_file::open(int root, std::string_view name)
{
    if (auto why = place(root, name); !why.empty())
        return why;
    for (int attempt = 0; attempt < 32; ++attempt)
    {
        std::string candidate = temporary_name(leaf_);
        file_.reset(::openat(folder_, candidate.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
        if (file_)
        {
            temporary_ = std::move(candidate);
            return {};
        }
        if (errno != EEXIST)
            break;
    }
    return failure("cannot create a temporary file for", errno);
}

std::string atomic_file::write(std::string_view data)
{
    while (!data.empty())
    {
        ssize_t written = ::write(file_.get(), data.data(), data.size());
        if (written < 0 && errno == EINTR)
            continue;
        if (written < 0)
            return failure("cannot write", errno);
        size_ += static_cast<std::uint64_t>(written);
        data.remove_prefix(static_cast<std::size_t>(written));
    }
    return {};
}

std::string atomic_file::truncate(std::uint64_t size)
{
    if (::ftruncate(file_.get(), static_cast<off_t>(size)) != 0 ||
        ::lseek(file_.get(), static_cast<off_t>(size), SEEK_SET) != static_cast<off_t>(size))
        return failure("cannot cut", errno);
    size_ = size;
    return {};
}

std::string atomic_file::open_partial(int root, std::string_view name, bool keep, std::string_view note)
{
    if (auto why = place(root, name); !why.empty())
        return why;
    std::string partial = partial_name(leaf_);
    if (partial != '.' + leaf_ + std::string(partial_marker))
        return partial_unavailable; // cut to fit: two long names could share it
    // A partial file is ours by its name alone: O_NOFOLLOW refuses a link planted under it. It is
    // emptied only once locked: another run may be writing it.
    file_.reset(::openat(folder_, partial.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!file_)
        return failure("cannot create a partial file for", errno);
    if (::flock(file_.get(), LOCK_EX | LOCK_NB) != 0)
    {
        file_.reset();
        return partial_unavailable;
    }
    struct stat info{};
    if (::fstat(file_.get(), &info) != 0 || !S_ISREG(info.st_mode))
    {
        file_.reset();
        return failure("cannot continue", errno ? errno : EINVAL);
    }
    // The lock is taken on what the name led to when opened; another run may have put that file
    // in place (or removed it) and let go of the lock since. Only the file still under the name is
    // ours to write: else this run would empty or extend a finished file.
    struct stat named{};
    if (::fstatat(folder_, partial.c_str(), &named, AT_SYMLINK_NOFOLLOW) != 0 || named.st_dev != info.st_dev ||
        named.st_ino != info.st_ino)
    {
        file_.reset();
        return partial_unavailable;
    }
    if (!keep && info.st_size != 0 && ::ftruncate(file_.get(), 0) != 0)
    {
        file_.reset();
        return failure("cannot empty", errno);
    }
    temporary_ = std::move(partial);
    partial_ = true;
    if (keep)
    {
        size_ = static_cast<std::uint64_t>(info.st_size);
        if (::lseek(file_.get(), 0, SEEK_END) < 0)
            return failure("cannot continue", errno);
        return {};
    }
    return write_note(note);
}

std::string atomic_file::write_note(std::string_view note)
{
    if (int error = write_whole(folder_, note_name(leaf_), note))
        return failure("cannot note where the partial download came from for", error);
    return {};
}

std::optional<std::string> atomic_file::read_note(int root, std::string_view name)
{
    auto parts = components(name);
    if (parts.empty())
        return std::nullopt;
    std::string why;
    auto folder = walk(root, name, parts, false, why);
    if (!folder)
        return std::nullopt;
    unique_fd file{::openat(folder.fd, note_name(parts.back()).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)};
    struct stat info{};
    if (!file || ::fstat(file.get(), &info) != 0 || !S_ISREG(info.st_mode) ||
        static_cast<std::uint64_t>(info.st_size) > max_note_size)
        return std::nullopt;
    std::string text(static_cast<std::size_t>(info.st_size), '\0');
    std::size_t got = 0;
    while (got < text.size())
    {
        ssize_t n = ::read(file.get(), text.data() + got, text.size() - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return std::nullopt;
        got += static_cast<std::size_t>(n);
    }
    return text;
}

void atomic_file::keep() noexcept
{
    if (!partial_)
    {
        discard();
        return;
    }
    file_.reset();
    temporary_.clear(); // no longer removed
}

std::string atomic_file::read_back(std::uint64_t size, const std::function<void(std::string_view)>& take) const
{
    char buffer[64 * 1024];
    for (std::uint64_t at = 0; at < size;)
    {
        auto want = static_cast<std::size_t>(std::min<std::uint64_t>(sizeof buffer, size - at));
        ssize_t got = ::pread(file_.get(), buffer, want, static_cast<off_t>(at));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return failure("cannot read back", got < 0 ? errno : EIO);
        take(std::string_view(buffer, static_cast<std::size_t>(got)));
        at += static_cast<std::uint64_t>(got);
    }
    return {};
}

std::string atomic_file::commit(bool overwrite, bool sync)
{
    if (!file_)
        return "cannot commit " + quoted(name_) + ": it is not open";
    if (sync && ::fsync(file_.get()) != 0)
        return failure("cannot write", errno);
    struct stat written{};
    committed_mtime_ns_ = ::fstat(file_.get(), &written) == 0
                              ? static_cast<std::int64_t>(written.st_mtim.tv_sec) * 1'000'000'000 + written.st_mtim.tv_nsec
                              : 0;
    // A partial file stays locked until it is renamed or removed: another run that finds it under
    // its partial name meanwhile must not take it (the lock belongs to the open file, which this
    // second descriptor keeps open).
    unique_fd keep_locked(partial_ ? ::dup(file_.get()) : -1);
    // close() is where some file systems (NFS) report a failed write: it must be seen before rename.
    if (::close(file_.release()) != 0)
        return failure("cannot write", errno); // the caller keeps a partial file or discards it
    const int folder = folder_;
    int renamed = overwrite
                      ? ::renameat(folder, temporary_.c_str(), folder, leaf_.c_str())
                      : ::renameat2(folder, temporary_.c_str(), folder, leaf_.c_str(), RENAME_NOREPLACE);
    if (renamed != 0 && !overwrite && (errno == EINVAL || errno == ENOSYS))
    {
        // The file system has no RENAME_NOREPLACE: link() also refuses an existing name, atomically.
        renamed = ::linkat(folder, temporary_.c_str(), folder, leaf_.c_str(), 0);
        if (renamed == 0)
            ::unlinkat(folder, temporary_.c_str(), 0);
    }
    if (renamed != 0)
    {
        int error = errno;
        discard();
        if (error == EEXIST)
            return quoted(name_) + " exists; --overwrite to replace";
        return failure("cannot put in place", error);
    }
    temporary_.clear();
    if (partial_)
    {
        ::unlinkat(folder, note_name(leaf_).c_str(), 0);
        partial_ = false;
    }
    if (sync && ::fsync(folder) != 0)
        return failure("cannot write", errno);
    return {};
}

void atomic_file::discard() noexcept
{
    // Removed while still open, and so still locked (a partial file): see commit().
    if (!temporary_.empty() && folder_ >= 0)
    {
        ::unlinkat(folder_, temporary_.c_str(), 0);
        if (partial_)
            ::unlinkat(folder_, note_name(leaf_).c_str(), 0);
    }
    file_.reset();
    temporary_.clear();
    partial_ = false;
}

std::string atomic_file::failure(std::string_view what, int error) const
{
    return std::string(what) + " " + quoted(name_) + ": " + errno_text(error);
}

} // namespace fxrates::cli::fetch
