#pragma once

// Which item of a streamed fetch starts next, so that one host at its connection limit does not
// hold up the others (head-of-line blocking). An item whose origin already has its most requests
// under way waits here, parked, holding no worker, while the items after it for other origins
// start; it starts as soon as its origin has room, before any later item of that origin.
//
// Without this, a worker took the next item whatever its origin, and waited with it in that
// origin's line: a list of 1,000 URLs of a slow host followed by 1,000 of a fast one kept the
// fast host idle until the slow host's last item had been taken.
//
// Sans-io: the caller pulls its input, numbers the items, and says when a started item ends.

#include "client/http/origin.hpp"

#include <algorithm>
#include <cstddef>
#include <deque>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace fxrates::detail {

template <class Item>
class origin_lookahead
{
public:
    /// An item to start now, with the number the caller gave it.
    struct ready
    {
        std::size_t number;
        Item item;
    };

    /// `per_origin`: the most items of one origin under way at once (the connection limit per
    /// origin). `most_parked`: the most items parked at once, so that a list of one host is read
    /// only that far ahead; past it the caller waits for an item to end. 0: nothing is ever parked,
    /// every item offered starts (and waits for its origin elsewhere).
    origin_lookahead(std::size_t per_origin, std::size_t most_parked)
        : per_origin_(std::max<std::size_t>(per_origin, 1)), most_parked_(most_parked)
    {
    }

    /// Whether another item may be offered (nothing more may be parked otherwise).
    bool may_offer() const noexcept { return most_parked_ == 0 || parked_ < most_parked_; }

    /// Items parked.
    std::size_t parked() const noexcept { return parked_; }

    /// The oldest parked item whose origin has room now, counted as under way.
    std::optional<ready> take_parked()
    {
        origin_state* best = nullptr;
        for (auto* state : with_parked_)
            if (state->under_way < per_origin_ && (!best || state->waiting.front().number < best->waiting.front().number))
                best = state;
        if (!best)
            return std::nullopt;
        ready next = std::move(best->waiting.front());
        best->waiting.pop_front();
        --parked_;
        ++best->under_way;
        if (best->waiting.empty())
            std::erase(with_parked_, best);
        return next;
    }

    /// The input's next item, numbered by the caller in input order: it is returned to start now
    /// (counted as under way) if its origin has room and none of that origin's items is parked;
    /// else it is parked, and returned later by `take_parked`.
    std::optional<ready> offer(const origin& where, std::size_t number, Item item)
    {
        auto& state = origins_[where];
        if ((state.under_way < per_origin_ && state.waiting.empty()) || most_parked_ == 0)
        {
            ++state.under_way;
            return ready{number, std::move(item)};
        }
        if (state.waiting.empty())
            with_parked_.push_back(&state);
        state.waiting.push_back(ready{number, std::move(item)});
        ++parked_;
        return std::nullopt;
    }

    /// An item of `where` that started has ended. True when a parked item of that origin may
    /// start now (the caller then wakes a worker for it).
    bool ended(const origin& where)
    {
        auto found = origins_.find(where);
        if (found == origins_.end())
            return false;
        auto& state = found->second;
        if (state.under_way > 0)
            --state.under_way;
        if (state.waiting.empty())
        {
            if (state.under_way == 0)
                origins_.erase(found); // a long list of many hosts keeps only the busy ones
            return false;
        }
        return state.under_way < per_origin_;
    }

    /// Every parked item, oldest first, taken out (the caller's run was cancelled).
    std::vector<ready> take_all()
    {
        std::vector<ready> all;
        all.reserve(parked_);
        for (auto* state : with_parked_)
            for (auto& each : state->waiting)
                all.push_back(std::move(each));
        std::sort(all.begin(), all.end(), [](const ready& a, const ready& b) { return a.number < b.number; });
        origins_.clear();
        with_parked_.clear();
        parked_ = 0;
        return all;
    }

private:
    struct origin_state
    {
        std::size_t under_way = 0;
        std::deque<ready> waiting;
    };

    std::size_t per_origin_;
    std::size_t most_parked_;
    std::size_t parked_ = 0;
    // Node-based: the pointers in `with_parked_` stay valid as other origins come and go.
    std::unordered_map<origin, origin_state, origin_hash> origins_;
    // The origins that have parked items: few (each is at its limit), so a scan finds the oldest.
    std::vector<origin_state*> with_parked_;
};

/// For a list held whole, its items numbered 0 to `count` - 1 (the lab's strategies): the next item
/// to start, the oldest parked one whose origin has room, else the next of the list (`next` counts
/// those offered), parking those whose origin is full. None when nothing can start now: then items
/// are parked (`lookahead.parked()`), or every item has been handed out.
template <class OriginOf>
std::optional<std::size_t> next_startable(origin_lookahead<std::size_t>& lookahead, std::size_t& next,
                                          std::size_t count, const OriginOf& origin_of)
{
    if (auto parked = lookahead.take_parked())
        return parked->number;
    while (next < count)
    {
        const auto index = next++;
        if (lookahead.offer(origin_of(index), index, index))
            return index;
    }
    return std::nullopt;
}

} // namespace fxrates::detail
