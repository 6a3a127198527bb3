#pragma once

// zlib's deflate for tests that feed compressed answers to the client: gzip, zlib or raw streams,
// and bombs (many zero bytes compressed without ever holding them).

#include <doctest/doctest.h>

#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

namespace fxrates::test {

constexpr int gzip_bits = MAX_WBITS + 16;
constexpr int zlib_bits = MAX_WBITS;
constexpr int raw_bits = -MAX_WBITS;

/// `data` and then `zeros` zero bytes, compressed with the given window bits (`gzip_bits`, ...).
inline std::string compress(std::string_view data, int window_bits, std::size_t zeros = 0)
{
    z_stream z{};
    REQUIRE(deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, window_bits, 9, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out;
    char buffer[64 * 1024];
    const std::string zero_block(1024 * 1024, '\0');
    auto pump = [&](std::string_view in, int flush)
    {
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        z.avail_in = static_cast<uInt>(in.size());
        do
        {
            z.next_out = reinterpret_cast<Bytef*>(buffer);
            z.avail_out = sizeof buffer;
            REQUIRE(deflate(&z, flush) != Z_STREAM_ERROR);
            out.append(buffer, sizeof buffer - z.avail_out);
        } while (z.avail_out == 0 || z.avail_in != 0);
    };
    pump(data, Z_NO_FLUSH);
    for (; zeros > 0; zeros -= std::min(zeros, zero_block.size()))
        pump(std::string_view(zero_block).substr(0, std::min(zeros, zero_block.size())), Z_NO_FLUSH);
    pump({}, Z_FINISH);
    deflateEnd(&z);
    return out;
}

} // namespace fxrates::test
