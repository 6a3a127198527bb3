#pragma once

#include <cstdint>
#include <span>

namespace fxrates::detail {

/// One step of SplitMix64: a fast, well-mixed pseudo-random sequence from a 64-bit state.
inline std::uint64_t splitmix64(std::uint64_t& state) noexcept
{
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/// The seed of the bytes of `/bytes/N`.
constexpr std::uint64_t pattern_seed = 0xf0a7e5;

/// The bytes of `/bytes/N` from `offset` on, into `out`: byte `i` is byte `i % 8` (little end first)
/// of the SplitMix64 value at step `i / 8` from `pattern_seed`, so any piece can be made (and
/// checked) without the ones before it, and no two pieces of a body repeat.
void fill_pattern(std::uint64_t offset, std::span<char> out) noexcept;

} // namespace fxrates::detail
