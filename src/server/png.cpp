#include "server/png.hpp"

#include "server/pattern.hpp"

#include <zlib.h>

#include <stdexcept>
#include <string_view>
#include <vector>

namespace fxrates::detail {

namespace {

void append_u32(std::string& out, std::uint32_t value)
{
    for (int shift = 24; shift >= 0; shift -= 8)
        out.push_back(static_cast<char>((value >> shift) & 0xff));
}

// Length, type, data, and the CRC-32 of type and data (PNG 5.3).
void append_chunk(std::string& out, std::string_view type, std::string_view data)
{
    append_u32(out, static_cast<std::uint32_t>(data.size()));
    auto crc_from = out.size();
    out.append(type).append(data);
    auto crc = crc32(0L, reinterpret_cast<const Bytef*>(out.data() + crc_from),
                     static_cast<uInt>(out.size() - crc_from));
    append_u32(out, static_cast<std::uint32_t>(crc));
}

} // namespace

std::string make_png(const png_spec& spec)
{
    constexpr std::uint32_t max_side = 4096;
    if (spec.width == 0 || spec.height == 0 || spec.width > max_side || spec.height > max_side)
        throw std::invalid_argument("a PNG side must be 1 to 4096 pixels");

    // Each row: filter type 0 (None), then RGB triples.
    std::size_t row_bytes = 1 + std::size_t{3} * spec.width;
    std::vector<unsigned char> rows(row_bytes * spec.height);
    std::uint64_t state = spec.seed;
    for (std::uint32_t y = 0; y < spec.height; ++y)
    {
        unsigned char* row = rows.data() + y * row_bytes;
        row[0] = 0;
        bool noise = spec.noise_every != 0 && y % spec.noise_every == 0;
        for (std::uint32_t x = 0; x < spec.width; ++x)
        {
            unsigned char* pixel = row + 1 + 3 * x;
            if (noise)
            {
                auto bits = splitmix64(state);
                pixel[0] = static_cast<unsigned char>(bits);
                pixel[1] = static_cast<unsigned char>(bits >> 8);
                pixel[2] = static_cast<unsigned char>(bits >> 16);
            }
            else
            {
                pixel[0] = static_cast<unsigned char>(x * 255 / spec.width);
                // Bands of 16 equal rows, which deflate finds again one row back.
                pixel[1] = static_cast<unsigned char>(y / 16 * 16);
                pixel[2] = static_cast<unsigned char>(spec.seed * 37);
            }
        }
    }

    std::vector<unsigned char> deflated(compressBound(static_cast<uLong>(rows.size())));
    uLongf deflated_size = static_cast<uLongf>(deflated.size());
    if (compress2(deflated.data(), &deflated_size, rows.data(), static_cast<uLong>(rows.size()),
                  Z_BEST_SPEED) != Z_OK)
        throw std::runtime_error("zlib could not deflate the image");

    std::string header;
    append_u32(header, spec.width);
    append_u32(header, spec.height);
    header +=
        std::string_view("\x08\x02\x00\x00\x00", 5); // depth 8, truecolour, deflate, filter 0, no interlace

    std::string png("\x89PNG\r\n\x1a\n", 8);
    append_chunk(png, "IHDR", header);
    append_chunk(png, "IDAT",
                 std::string_view(reinterpret_cast<const char*>(deflated.data()), deflated_size));
    append_chunk(png, "IEND", {});
    return png;
}

} // namespace fxrates::detail
