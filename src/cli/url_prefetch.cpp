#include "cli/url_prefetch.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <system_error>

namespace fxrates::cli {

namespace {

// `fd`, moved past the standard descriptors: with stdin closed, a new pipe would take 0 and be
// read as the list.
fetch::unique_fd above_standard(int fd)
{
    fetch::unique_fd owned(fd);
    if (fd > STDERR_FILENO)
        return owned;
    fetch::unique_fd moved(::fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1));
    if (!moved)
        throw std::system_error(errno, std::generic_category(), "cannot make a pipe to stop the list's reader");
    return moved;
}

fetch::unique_fd make_stop_pipe(fetch::unique_fd& write_end)
{
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0)
        throw std::system_error(errno, std::generic_category(), "cannot make a pipe to stop the list's reader");
    fetch::unique_fd read_end = above_standard(ends[0]);
    write_end = above_standard(ends[1]);
    return read_end;
}

} // namespace

url_prefetcher::url_prefetcher(url_sources sources, std::size_t capacity)
    : capacity_(std::max<std::size_t>(capacity, 1)), stop_read_(make_stop_pipe(stop_write_)),
      reader_(std::move(sources), stop_read_.get())
{
    thread_ = std::thread([this] { read_all(); });
}

void url_prefetcher::stop()
{
    {
        std::lock_guard hold(lock_);
        if (stopping_)
            return;
        stopping_ = true;
        wakers_.clear();
    }
    changed_.notify_all();
    room_.notify_all();
    const char byte = 0;
    [[maybe_unused]] auto written = ::write(stop_write_.get(), &byte, 1);
    thread_.join();
}

void url_prefetcher::read_all()
{
    for (;;)
    {
        url_ahead next;
        next.kind = reader_.next(next.item, next.why);
        const bool last = next.kind == url_reader::result::end || next.kind == url_reader::result::failed ||
                          next.kind == url_reader::result::stopped;
        std::vector<std::function<void()>> wake;
        {
            std::unique_lock hold(lock_);
            // Full: wait until half is taken, then refill in one go, so that a fast list costs the
            // two threads a hand-over per 5,000 items, not one per item. The end takes no room: a
            // list of exactly `capacity` items is known whole.
            if (!last && ahead_.size() >= capacity_)
            {
                reader_waiting_ = true;
                room_.wait(hold, [&] { return stopping_ || ahead_.size() <= capacity_ / 2; });
                reader_waiting_ = false;
            }
            if (stopping_)
                return;
            if (last)
                ending_ = std::move(next);
            else
                ahead_.push_back(std::move(next));
            wake.swap(wakers_);
        }
        // Called unlocked: a waker may take the consumer's own lock. stop() cannot pass between
        // the swap and here to end a loop that a waker posts to: it joins this thread first.
        changed_.notify_all();
        for (auto& each : wake)
            each();
        if (last)
            return;
    }
}

void url_prefetcher::wait_ahead(std::size_t count, std::optional<std::chrono::milliseconds> quiet)
{
    std::unique_lock hold(lock_);
    auto enough = [&] { return ending_ || ahead_.size() >= std::min(count, capacity_); };
    if (quiet)
    {
        // Whatever came within `quiet`, then at least one item.
        changed_.wait_for(hold, *quiet, enough);
        changed_.wait(hold, [&] { return enough() || !ahead_.empty(); });
    }
    else
        changed_.wait(hold, enough);
}

void url_prefetcher::inspect(const std::function<void(const url_ahead&)>& visit) const
{
    std::lock_guard hold(lock_);
    for (const auto& each : ahead_)
        visit(each);
    if (ending_)
        visit(*ending_);
}

bool url_prefetcher::all_ahead() const
{
    std::lock_guard hold(lock_);
    return ending_.has_value();
}

url_prefetcher::taken url_prefetcher::take(const std::function<void()>& wake)
{
    taken next;
    {
        std::lock_guard hold(lock_);
        if (!ahead_.empty())
        {
            next.line = std::move(ahead_.front());
            ahead_.pop_front();
        }
        else if (ending_)
            next.line = *ending_;
        else
        {
            if (wake)
                wakers_.push_back(wake);
            return next;
        }
        if (!reader_waiting_ || ahead_.size() > capacity_ / 2)
            return next;
    }
    room_.notify_one();
    return next;
}

url_ahead url_prefetcher::take_waiting()
{
    std::unique_lock hold(lock_);
    changed_.wait(hold, [&] { return !ahead_.empty() || ending_; });
    if (ahead_.empty())
        return *ending_;
    auto next = std::move(ahead_.front());
    ahead_.pop_front();
    const bool room = reader_waiting_ && ahead_.size() <= capacity_ / 2;
    hold.unlock();
    if (room)
        room_.notify_one();
    return next;
}

} // namespace fxrates::cli
