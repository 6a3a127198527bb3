#pragma once

// A set of names too large to hold as strings (a million output files, a million lines of
// .fxrates-meta): each name is kept as a 64-bit hash with a 32-bit value, in one flat table with
// open addressing, 12 to 24 bytes a name. Two different names with equal hashes are taken for one
// (odds about n^2 / 2^65: 3e-8 for a million names); its users say how they live with that.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace fxrates::cli::fetch {

/// FNV-1a, 64 bits, never 0 (the table's empty slot).
std::uint64_t name_hash(std::string_view name) noexcept;

class name_hash_table
{
public:
    /// The value `key` was put with, or 0 (so a value is never 0).
    std::uint32_t find(std::uint64_t key) const noexcept;

    /// Puts `key` with `value` (not 0) unless it is there; with `replace`, replaces its value.
    void put(std::uint64_t key, std::uint32_t value, bool replace = false);

    std::size_t size() const noexcept { return size_; }

private:
    std::vector<std::uint64_t> keys_; // 0: an empty slot
    std::vector<std::uint32_t> values_;
    std::size_t size_ = 0;
};

} // namespace fxrates::cli::fetch
