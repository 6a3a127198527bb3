#pragma once

// Which items of an ordered run have ended, from the oldest unfinished one on: what a caller that
// hands outcomes on in input order holds back, and how far ahead it may start items so that it
// holds at most `size` of them (0: no bound). Sans-io; items are numbered 0, 1, 2, ... as opened.

#include <cstddef>
#include <deque>

namespace fxrates::detail {

class ordering_window
{
public:
    explicit ordering_window(std::size_t size = 0) noexcept : size_(size) {}

    /// Whether another item may be opened: it would be fewer than `size` past the oldest unfinished.
    bool has_room() const noexcept { return size_ == 0 || opened_ < oldest_ + size_; }

    /// Opens the next item, unfinished: its number.
    std::size_t open()
    {
        unfinished_.push_back(true);
        return opened_++;
    }

    /// Item `number` (opened, not yet closed) has ended. True if it was the oldest unfinished one:
    /// the window moved past it and the items after it that had ended.
    bool close(std::size_t number)
    {
        unfinished_[number - oldest_] = false;
        if (number != oldest_)
            return false;
        while (!unfinished_.empty() && !unfinished_.front())
        {
            unfinished_.pop_front();
            ++oldest_;
        }
        return true;
    }

    /// Items opened so far.
    std::size_t opened() const noexcept { return opened_; }

private:
    std::size_t size_;
    std::size_t opened_ = 0;
    std::size_t oldest_ = 0;
    std::deque<bool> unfinished_; // from the oldest unfinished item on
};

} // namespace fxrates::detail
