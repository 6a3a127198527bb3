#include "server/static_files.hpp"

#include <boost/beast/core/string.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace fxrates::detail {

namespace {

int hex_value(char c) noexcept
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// Closes a descriptor on every path out.
class descriptor
{
public:
    explicit descriptor(int fd = -1) noexcept : fd_(fd) {}
    descriptor(descriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    descriptor& operator=(descriptor&& other) noexcept
    {
        std::swap(fd_, other.fd_);
        return *this;
    }
    ~descriptor()
    {
        if (fd_ >= 0)
            ::close(fd_);
    }
    int get() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }

private:
    int fd_;
};

// A regular file's bytes, read with pread so that concurrent answers share the descriptor.
class file_source final : public body_source
{
public:
    file_source(descriptor fd, std::uint64_t size) : fd_(std::move(fd)), size_(size) {}
    std::uint64_t size() const noexcept override { return size_; }

    std::size_t read(std::uint64_t offset, std::span<char> out, boost::system::error_code& ec) override
    {
        std::size_t done = 0;
        while (done < out.size() && offset + done < size_)
        {
            auto wanted =
                static_cast<std::size_t>(std::min<std::uint64_t>(out.size() - done, size_ - offset - done));
            auto got = ::pread(fd_.get(), out.data() + done, wanted, static_cast<off_t>(offset + done));
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0)
            {
                // Truncated since it was opened: its Content-Length cannot be kept.
                ec = got < 0 ? boost::system::error_code(errno, boost::system::system_category())
                             : make_error_code(boost::system::errc::io_error);
                break;
            }
            done += static_cast<std::size_t>(got);
        }
        return done;
    }

private:
    descriptor fd_;
    std::uint64_t size_;
};

// A regular file as a resource, or nothing for anything else (a directory, a FIFO, a device).
std::optional<resource> regular_file(descriptor fd, std::string_view name)
{
    struct stat info{};
    if (::fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode))
        return std::nullopt;
    auto size = static_cast<std::uint64_t>(info.st_size);
    auto nanoseconds = static_cast<std::uint64_t>(info.st_mtim.tv_sec) * 1'000'000'000u +
                       static_cast<std::uint64_t>(info.st_mtim.tv_nsec);
    return resource{std::string(content_type_for(name)), strong_etag(size, nanoseconds), info.st_mtim.tv_sec,
                    std::make_shared<file_source>(std::move(fd), size)};
}

// O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused after fstat anyway).
constexpr int open_flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;

} // namespace

std::optional<std::vector<std::string>> path_components(std::string_view path)
{
    if (!path.starts_with('/'))
        return std::nullopt;
    std::vector<std::string> components;
    std::size_t start = 1;
    while (start <= path.size())
    {
        auto end = std::min(path.find('/', start), path.size());
        auto raw = path.substr(start, end - start);
        start = end + 1;
        std::string decoded;
        for (std::size_t i = 0; i < raw.size(); ++i)
        {
            char c = raw[i];
            if (c == '%')
            {
                if (i + 2 >= raw.size())
                    return std::nullopt;
                int high = hex_value(raw[i + 1]);
                int low = hex_value(raw[i + 2]);
                if (high < 0 || low < 0)
                    return std::nullopt;
                c = static_cast<char>(high * 16 + low);
                i += 2;
            }
            if (c == '/' || c == '\\' || c == '\0')
                return std::nullopt;
            decoded.push_back(c);
        }
        if (decoded == "." || decoded == "..")
            return std::nullopt;
        if (!decoded.empty())
            components.push_back(std::move(decoded));
    }
    return components;
}

std::string_view content_type_for(std::string_view file_name) noexcept
{
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 12> types = {{
        {"html", "text/html; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},
        {"js", "text/javascript; charset=utf-8"},
        {"json", "application/json"},
        {"txt", "text/plain; charset=utf-8"},
        {"png", "image/png"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},
        {"svg", "image/svg+xml"},
        {"csv", "text/csv; charset=utf-8"},
        {"pdf", "application/pdf"},
    }};
    auto dot = file_name.rfind('.');
    if (dot != std::string_view::npos)
        for (const auto& [extension, type] : types)
            if (boost::beast::iequals(file_name.substr(dot + 1), extension))
                return type;
    return "application/octet-stream";
}

static_files::static_files(const std::string& root)
{
    root_fd_ = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root_fd_ < 0)
        throw std::runtime_error(root + ": cannot serve files from it: " + std::strerror(errno) +
                                 " (a directory is expected)");
}

static_files::~static_files() { ::close(root_fd_); }

resource_lookup static_files::find(std::string_view path) const
{
    auto components = path_components(path);
    if (!components)
        return {};
    descriptor directory;
    int at = root_fd_;
    for (std::size_t i = 0; i + 1 < components->size(); ++i)
    {
        // O_DIRECTORY with O_NOFOLLOW: a link, even to a directory, is refused here.
        directory = descriptor(::openat(at, (*components)[i].c_str(), open_flags | O_DIRECTORY));
        if (!directory)
            return {};
        at = directory.get();
    }
    std::string name = components->empty() ? std::string(".") : components->back();
    descriptor target(::openat(at, name.c_str(), open_flags));
    if (!target)
        return {};
    struct stat info{};
    if (::fstat(target.get(), &info) != 0)
        return {};
    if (S_ISDIR(info.st_mode) && !path.ends_with('/'))
        // Its page's relative links would resolve against the parent: the folder is at "path/".
        return {std::nullopt, 301, "Moved Permanently"};
    if (S_ISDIR(info.st_mode))
    {
        descriptor index(::openat(target.get(), "index.html", open_flags));
        if (!index)
            return {};
        if (auto found = regular_file(std::move(index), "index.html"))
            return {std::move(found)};
        return {};
    }
    if (path.ends_with('/')) // "file.txt/" names a folder, which a file is not
        return {};
    if (auto found = regular_file(std::move(target), name))
        return {std::move(found)};
    return {};
}

} // namespace fxrates::detail
