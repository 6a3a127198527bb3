#pragma once

#include <cstdint>
#include <string>

namespace fxrates::detail {

/// What a generated image looks like.
struct png_spec
{
    std::uint32_t width = 16;
    std::uint32_t height = 16;
    /// Seeds the pixels: the same spec always makes the same bytes.
    std::uint64_t seed = 1;
    /// Every `noise_every`-th row is pseudo-random noise, which deflate cannot shrink; the others
    /// are a gradient in bands of equal rows, which it can. 1 makes the whole image noise (its file is about
    /// 3 × width × height bytes); 0 makes none.
    std::uint32_t noise_every = 1;
};

/// A valid PNG file (RFC 2083 / ISO 15948): signature, IHDR (8-bit truecolour, not interlaced),
/// one IDAT holding the zlib stream of the filtered rows, IEND, each chunk with its CRC-32. Pure:
/// deterministic, no I/O. Throws `std::invalid_argument` for a zero or too large (over 4096) side.
std::string make_png(const png_spec& spec);

} // namespace fxrates::detail
