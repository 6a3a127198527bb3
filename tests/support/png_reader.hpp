#pragma once

// Reads PNG files for tests: the chunks, each CRC checked, and the inflated image data.

#include <zlib.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fxrates::test {

struct png_chunk
{
    std::string type;
    std::string data;
    bool crc_ok = false; ///< the CRC-32 stored after the chunk is that of its type and data
};

/// A big-endian 32-bit number at `at`; throws if `bytes` is too short.
inline std::uint32_t big_endian_u32(std::string_view bytes, std::size_t at)
{
    if (at + 4 > bytes.size())
        throw std::runtime_error("a PNG number past the end");
    std::uint32_t value = 0;
    for (std::size_t i = 0; i < 4; ++i)
        value = (value << 8) | static_cast<unsigned char>(bytes[at + i]);
    return value;
}

/// The chunks of a PNG file; throws `std::runtime_error` without the signature, or if a chunk
/// runs past the end.
inline std::vector<png_chunk> png_chunks(std::string_view png)
{
    if (png.substr(0, 8) != std::string_view("\x89PNG\r\n\x1a\n", 8))
        throw std::runtime_error("no PNG signature");
    std::vector<png_chunk> chunks;
    for (std::size_t at = 8; at < png.size();)
    {
        auto length = big_endian_u32(png, at);
        if (at + 12 + std::uint64_t{length} > png.size())
            throw std::runtime_error("a PNG chunk runs past the end");
        auto type_and_data = png.substr(at + 4, 4 + std::size_t{length});
        auto crc = crc32(0L, reinterpret_cast<const Bytef*>(type_and_data.data()),
                         static_cast<uInt>(type_and_data.size()));
        chunks.push_back({std::string(type_and_data.substr(0, 4)), std::string(type_and_data.substr(4)),
                          big_endian_u32(png, at + 8 + length) == crc});
        at += 12 + std::size_t{length};
    }
    return chunks;
}

/// What a whole zlib stream inflates to; throws if it is not one, or inflates to more than `limit`.
inline std::string zlib_inflate(std::string_view stream, std::size_t limit)
{
    std::string out(limit + 1, '\0'); // one more: what inflates past the limit does not fit
    uLongf size = static_cast<uLongf>(out.size());
    if (uncompress(reinterpret_cast<Bytef*>(out.data()), &size, reinterpret_cast<const Bytef*>(stream.data()),
                   static_cast<uLong>(stream.size())) != Z_OK ||
        size > limit)
        throw std::runtime_error("not a zlib stream that inflates within the limit");
    out.resize(size);
    return out;
}

} // namespace fxrates::test
