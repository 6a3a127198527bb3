#include "cli/fetch/item_sinks.hpp"

#include "cli/fetch/validators.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cerrno>

#include <unistd.h>

namespace fxrates::cli::fetch {

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

std::string note_text(const partial_note& note)
{
    boost::json::object object;
    object["url"] = note.url;
    object["etag"] = note.etag;
    object["last_modified"] = note.last_modified;
    if (note.total)
        object["total"] = *note.total;
    return boost::json::serialize(object) + "\n";
}

std::optional<partial_note> parse_note(std::string_view text)
{
    boost::system::error_code ec;
    auto value = boost::json::parse(text, ec);
    if (ec || !value.is_object())
        return std::nullopt;
    const auto& object = value.get_object();
    auto member = [&](std::string_view key) -> std::optional<std::string> {
        const auto* found = object.if_contains(key);
        if (!found || !found->is_string())
            return std::nullopt;
        return std::string(found->get_string());
    };
    auto url = member("url"), etag = member("etag"), last_modified = member("last_modified");
    // One validator is enough (a server may send only an ETag, or only Last-Modified).
    auto usable = [](const std::string& value) { return value.empty() || is_sendable_validator(value); };
    if (!url || url->empty() || !etag || !last_modified || !usable(*etag) || !usable(*last_modified) ||
        (etag->empty() && last_modified->empty()))
        return std::nullopt;
    std::optional<std::uint64_t> total; // absent from notes of older runs
    if (const auto* found = object.if_contains("total"))
    {
        if (!found->is_uint64() && !(found->is_int64() && found->get_int64() >= 0))
            return std::nullopt;
        total = found->is_uint64() ? found->get_uint64() : static_cast<std::uint64_t>(found->get_int64());
    }
    return partial_note{std::move(*url), std::move(*etag), std::move(*last_modified), total};
}

std::string file_sink::continue_partial(const partial_note& note)
{
    file_ = std::make_unique<atomic_file>();
    if (auto why = file_->open_partial(root_, name_, true); !why.empty())
    {
        file_.reset();
        return why;
    }
    etag_ = note.etag;
    last_modified_ = note.last_modified;
    total_ = note.total;
    resumable_ = true;
    return {};
}

std::optional<resume_point> file_sink::resume_from() const
{
    if (!resumable_ || !file_)
        return std::nullopt;
    const std::uint64_t held = file_->size() + pending_.size();
    if (held == 0)
        return std::nullopt;
    return resume_point{held, etag_, last_modified_, total_};
}

error_code file_sink::begin_body(const body_head& head)
{
    const std::uint64_t held = file_ ? file_->size() + pending_.size() : 0;
    if (head.offset > 0 && head.offset == held)
    {
        // A 206 for the rest of what the file holds: kept, and hashed so that the digest is the
        // whole body's.
        if (auto ec = flush())
            return ec;
        if (hashing())
            return fail(file_->read_back(held, [this](std::string_view data) { hash_held(data); }));
        return {};
    }
    // The whole body, from its first byte.
    pending_.clear();
    etag_ = head.etag;
    last_modified_ = head.last_modified;
    total_ = head.total_size;
    resumable_ = !head.encoded && (!etag_.empty() || !last_modified_.empty());
    const bool partial = resumable_ && (!head.total_size || *head.total_size >= partial_threshold);
    if (file_ && file_->partial() == partial)
    {
        if (auto ec = fail(file_->reset()))
            return ec;
        return partial ? fail(file_->write_note(note_text({url_, etag_, last_modified_, total_}))) : error_code{};
    }
    return fail(open(partial));
}

error_code file_sink::write_body(std::string_view data)
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

error_code file_sink::flush()
{
    if (pending_.empty())
        return {};
    auto ec = fail(file_->write(pending_));
    pending_.clear();
    return ec;
}

std::string file_sink::open(bool partial)
{
    file_ = std::make_unique<atomic_file>();
    if (partial)
    {
        auto why = file_->open_partial(root_, name_, false, note_text({url_, etag_, last_modified_, total_}));
        // Another run holds that partial file, or the name is too long for one of its own: this
        // download goes to a temporary file, and is not kept between runs.
        if (why != atomic_file::partial_unavailable)
            return why;
        file_ = std::make_unique<atomic_file>();
    }
    return file_->open(root_, name_);
}

std::string file_sink::commit(bool overwrite)
{
    // A successful answer with no body part at all (a 204) still makes its (empty) file.
    if (!file_)
        if (auto why = open(false); !why.empty())
            return why;
    if (flush())
        return failure();
    std::string().swap(pending_);
    return file_->commit(overwrite);
}

std::uint64_t file_sink::end_failed() noexcept
{
    if (!file_)
        return 0;
    if (file_->partial() && resumable_)
    {
        // What arrived is worth keeping: written out, the file left for --continue.
        if (!flush() && file_->size() > 0)
        {
            const auto held = file_->size();
            file_->keep();
            return held;
        }
    }
    file_->discard();
    return 0;
}

} // namespace fxrates::cli::fetch
