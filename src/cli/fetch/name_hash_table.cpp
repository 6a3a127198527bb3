#include "cli/fetch/name_hash_table.hpp"

#include <algorithm>

namespace fxrates::cli::fetch {

std::uint64_t name_hash(std::string_view name) noexcept
{
    std::uint64_t hash = 14695981039346656037ull;
    for (unsigned char c : name)
        hash = (hash ^ c) * 1099511628211ull;
    return hash == 0 ? 1 : hash;
}

std::uint32_t name_hash_table::find(std::uint64_t key) const noexcept
{
    if (keys_.empty())
        return 0;
    const std::size_t mask = keys_.size() - 1;
    for (std::size_t slot = key & mask;; slot = (slot + 1) & mask)
    {
        if (keys_[slot] == key)
            return values_[slot];
        if (keys_[slot] == 0)
            return 0;
    }
}

void name_hash_table::put(std::uint64_t key, std::uint32_t value, bool replace)
{
    if ((size_ + 1) * 2 > keys_.size())
    {
        // At most half full, so that probes stay short; grown by doubling.
        std::vector<std::uint64_t> keys(std::max<std::size_t>(64, keys_.size() * 2), 0);
        std::vector<std::uint32_t> values(keys.size(), 0);
        keys_.swap(keys);
        values_.swap(values);
        size_ = 0;
        for (std::size_t i = 0; i < keys.size(); ++i)
            if (keys[i] != 0)
                put(keys[i], values[i]);
    }
    const std::size_t mask = keys_.size() - 1;
    std::size_t slot = key & mask;
    while (keys_[slot] != 0)
    {
        if (keys_[slot] == key)
        {
            if (replace)
                values_[slot] = value;
            return;
        }
        slot = (slot + 1) & mask;
    }
    keys_[slot] = key;
    values_[slot] = value;
    ++size_;
}

} // namespace fxrates::cli::fetch
