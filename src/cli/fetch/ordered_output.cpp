#include "cli/fetch/ordered_output.hpp"

#include <cstdlib>
#include <vector>

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

namespace fxrates::cli::fetch {

namespace {

error_code last_error() noexcept
{
    return error_code(errno, boost::system::system_category());
}

// An unnamed file in `dir`: O_TMPFILE where the file system has it, else a named one unlinked at
// once. Either way nothing is left behind when the program ends, however it ends (bar the tiny
// window of the fallback).
unique_fd open_spill_file(const std::string& dir)
{
    unique_fd fd{::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)};
    if (fd || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
        return fd;
    std::string path = dir + "/.fxrates-spill-XXXXXX";
    fd.reset(::mkostemp(path.data(), O_CLOEXEC));
    if (fd)
        ::unlink(path.c_str());
    return fd;
}

} // namespace

std::string default_spill_dir()
{
    const char* dir = std::getenv("TMPDIR");
    return dir && *dir ? dir : "/tmp";
}

ordered_output::ordered_output(output_writer out, std::size_t memory_bound, std::string spill_dir, bool whole_items,
                               bool items_fail_alone)
    : out_(std::move(out)), memory_bound_(memory_bound), spill_dir_(std::move(spill_dir)), whole_items_(whole_items),
      items_fail_alone_(items_fail_alone)
{
}

output_status ordered_output::begin(std::size_t index)
{
    if (broken_.failed())
        return broken_;
    if (index < head_)
        return misuse(index, "has already been written out");
    if (index == head_ && !whole_items_)
    {
        if (auto found = waiting_.find(index); found != waiting_.end()) // it could not be held
        {
            waiting_.erase(found);
            return {};
        }
        if (head_written_ > 0)
            return misuse(index, "cannot start over: " + std::to_string(head_written_) +
                                     " bytes already written to stdout");
        return {};
    }
    auto found = waiting_.find(index);
    if (found == waiting_.end())
        return {};
    auto& item = found->second;
    if (item.state_ == held_item::state::unheld)
    {
        item.state_ = held_item::state::open; // a new answer may find room where the last did not
        item.why_.clear();
    }
    if (item.state_ != held_item::state::open)
        return misuse(index, "has already finished");
    drop(item);
    return {};
}

output_status ordered_output::write(std::size_t index, std::string_view data)
{
    if (broken_.failed())
        return broken_;
    if (index < head_)
        return misuse(index, "has already been written out");
    if (index == head_ && !whole_items_)
    {
        if (auto found = waiting_.find(index); found != waiting_.end()) // it could not be held
            return {{}, found->second.why_};
        head_written_ += data.size();
        return emit(data);
    }
    held_item& item = waiting_[index];
    if (item.state_ == held_item::state::unheld)
        return {{}, item.why_};
    if (item.state_ != held_item::state::open)
        return misuse(index, "has already finished");
    return hold(item, data);
}

output_status ordered_output::finish(std::size_t index, bool ok)
{
    if (broken_.failed())
        return broken_;
    if (index < head_)
        return misuse(index, "has already been written out");
    if (index == head_ && !whole_items_)
    {
        output_status unheld;
        if (auto found = waiting_.find(index); found != waiting_.end()) // it could not be held
        {
            if (ok)
                unheld = {{}, found->second.why_};
            waiting_.erase(found);
        }
        if (auto status = advance(); status.failed())
            return status;
        return unheld;
    }
    if (index == head_)
    {
        // Whole items: the head's bytes were held; they go out now, or not at all.
        output_status unheld;
        if (auto found = waiting_.find(index); found != waiting_.end())
        {
            held_item item = std::move(found->second);
            waiting_.erase(found);
            if (item.state_ == held_item::state::unheld && ok)
                unheld = {{}, item.why_};
            else if (ok)
            {
                if (auto status = write_out(item); status.failed())
                    return status;
            }
            else
                drop(item);
        }
        if (auto status = advance(); status.failed())
            return status;
        return unheld;
    }
    held_item& item = waiting_[index];
    if (item.state_ == held_item::state::unheld)
    {
        item.state_ = held_item::state::failed;
        return ok ? output_status{{}, item.why_} : output_status{};
    }
    if (item.state_ != held_item::state::open)
        return misuse(index, "has already finished");
    if (!ok)
        drop(item);
    item.state_ = ok ? held_item::state::succeeded : held_item::state::failed;
    return {};
}

output_status ordered_output::emit(std::string_view data)
{
    if (data.empty())
        return {};
    if (error_code ec = out_(data))
        broken_ = {ec, "writing the output failed: " + ec.message()};
    return broken_;
}

output_status ordered_output::hold(held_item& item, std::string_view data)
{
    // Once an item has spilled, all its later bytes spill too, so that its bytes stay in order:
    // memory first, then the file.
    if (!item.spill_ && memory_bound_ - held_ >= data.size())
    {
        item.memory_.append(data);
        held_ += data.size();
        return {};
    }
    if (!item.spill_)
    {
        item.spill_ = open_spill_file(spill_dir_);
        if (!item.spill_)
        {
            const error_code ec = last_error();
            return unhold(item, ec,
                          "cannot create a file in " + spill_dir_ + " to hold this body until its turn: " +
                              ec.message() + " (set TMPDIR to a writable folder with room)");
        }
    }
    while (!data.empty())
    {
        ssize_t written =
            ::pwrite(item.spill_.get(), data.data(), data.size(), static_cast<off_t>(item.spilled_));
        if (written < 0 && errno == EINTR)
            continue;
        if (written < 0)
        {
            const error_code ec = last_error();
            return unhold(item, ec,
                          "cannot hold this body until its turn in " + spill_dir_ + ": " + ec.message() +
                              " (set TMPDIR to a writable folder with room)");
        }
        item.spilled_ += static_cast<std::uint64_t>(written);
        spilled_ += static_cast<std::uint64_t>(written);
        data.remove_prefix(static_cast<std::size_t>(written));
    }
    return {};
}

output_status ordered_output::write_out(held_item& item)
{
    head_written_ += item.memory_.size() + item.spilled_;
    if (auto status = emit(item.memory_); status.failed())
        return status;
    std::vector<char> buffer(std::min<std::uint64_t>(item.spilled_, 64 * 1024));
    for (std::uint64_t offset = 0; offset < item.spilled_;)
    {
        ssize_t got = ::pread(item.spill_.get(), buffer.data(), buffer.size(), static_cast<off_t>(offset));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
        {
            error_code ec = got < 0 ? last_error() : make_error_code(boost::system::errc::io_error);
            broken_ = {ec, "cannot read back output held in " + spill_dir_ + ": " + ec.message()};
            return broken_;
        }
        if (auto status = emit(std::string_view(buffer.data(), static_cast<std::size_t>(got)));
            status.failed())
            return status;
        offset += static_cast<std::uint64_t>(got);
    }
    drop(item);
    return {};
}

output_status ordered_output::advance()
{
    for (;;)
    {
        ++head_;
        head_written_ = 0;
        auto found = waiting_.find(head_);
        if (found == waiting_.end())
            return {};
        if (found->second.state_ == held_item::state::unheld ||
            (whole_items_ && found->second.state_ == held_item::state::open))
            return {}; // held until it ends (one that could not be held: its bytes were dropped)
        held_item item = std::move(found->second);
        waiting_.erase(found);
        bool open = item.state_ == held_item::state::open;
        if (auto status = write_out(item); status.failed())
            return status;
        // An open item stays the head: its bytes written so far count against a later begin().
        if (open)
            return {};
        head_written_ = 0;
    }
}

output_status ordered_output::unhold(held_item& item, error_code ec, std::string why)
{
    if (!items_fail_alone_)
    {
        broken_ = {ec, std::move(why)};
        return broken_;
    }
    drop(item);
    item.state_ = held_item::state::unheld;
    item.why_ = std::move(why);
    return {{}, item.why_};
}

void ordered_output::drop(held_item& item) noexcept
{
    held_ -= item.memory_.size();
    spilled_ -= item.spilled_;
    item.memory_.clear();
    item.memory_.shrink_to_fit();
    item.spill_.reset();
    item.spilled_ = 0;
}

output_status ordered_output::misuse(std::size_t index, std::string_view what) const
{
    return {{}, "item " + std::to_string(index) + " " + std::string(what)};
}

} // namespace fxrates::cli::fetch
