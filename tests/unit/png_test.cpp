#include "server/png.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "support/png_reader.hpp"

using fxrates::detail::make_png;
using fxrates::detail::png_spec;

using fxrates::test::big_endian_u32;
using fxrates::test::png_chunks;
using fxrates::test::zlib_inflate;

TEST_CASE("a generated PNG has the signature, IHDR, one IDAT that inflates to the filtered rows, and IEND")
{
    png_spec spec{37, 21, 5, 3};
    auto png = make_png(spec);
    auto chunks = png_chunks(png);
    REQUIRE(chunks.size() == 3);
    for (const auto& chunk : chunks)
        CHECK(chunk.crc_ok);
    CHECK(chunks[0].type == "IHDR");
    REQUIRE(chunks[0].data.size() == 13);
    CHECK(big_endian_u32(chunks[0].data, 0) == 37);
    CHECK(big_endian_u32(chunks[0].data, 4) == 21);
    CHECK(chunks[0].data.substr(8) == std::string("\x08\x02\x00\x00\x00", 5));
    CHECK(chunks[1].type == "IDAT");
    CHECK(chunks[2].type == "IEND");
    CHECK(chunks[2].data.empty());

    auto rows = zlib_inflate(chunks[1].data, (1 + 3 * 37) * 21);
    REQUIRE(rows.size() == (1 + 3 * 37) * 21);
    for (std::size_t y = 0; y < 21; ++y)
        CHECK(rows[y * (1 + 3 * 37)] == 0); // filter type None
}

TEST_CASE("the same spec makes the same PNG, another seed another one, and noise makes it large")
{
    CHECK(make_png({64, 64, 1, 1}) == make_png({64, 64, 1, 1}));
    CHECK(make_png({64, 64, 1, 1}) != make_png({64, 64, 2, 1}));
    auto noise = make_png({200, 200, 1, 1}).size();
    auto gradient = make_png({200, 200, 1, 0}).size();
    CHECK(noise > 3 * 200 * 200);
    CHECK(gradient < noise / 10);
}

TEST_CASE("a PNG side of 0 or over 4096 pixels is refused")
{
    CHECK_THROWS_AS(make_png({0, 10, 1, 1}), std::invalid_argument);
    CHECK_THROWS_AS(make_png({10, 4097, 1, 1}), std::invalid_argument);
}
