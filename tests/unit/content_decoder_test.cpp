#include "client/http/content_decoder.hpp"

#include "support/deflate.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include <zlib.h>

using fxrates::errc;
using fxrates::error_code;
using fxrates::detail::body_sink;
using fxrates::detail::content_decoder;
using fxrates::detail::string_sink;

namespace
{

using fxrates::test::compress;
using fxrates::test::gzip_bits;
using fxrates::test::raw_bits;
using fxrates::test::zlib_bits;

std::string sample_text()
{
    std::string text;
    for (int i = 0; i < 2000; ++i)
        text += "{\"base\":\"EUR\",\"date\":\"2024-01-0" + std::to_string(i % 10) +
                "\",\"rate\":" + std::to_string(i * 7919 % 100000) + "}\n";
    return text;
}

// Counts the decoded body without keeping it, and remembers the largest piece.
class counting_sink final : public body_sink
{
public:
    std::size_t total = 0;
    std::size_t largest_piece = 0;

    error_code write(std::string_view data) override
    {
        total += data.size();
        largest_piece = std::max(largest_piece, data.size());
        return {};
    }
};

class refusing_sink final : public body_sink
{
public:
    error_code write(std::string_view) override { return make_error_code(errc::internal); }
};

struct decoded
{
    error_code error; // from write, or else from finish
    std::string detail;
    std::string body;
};

// Decodes `encoded` in pieces of `piece` bytes (all at once if 0), then finishes.
decoded decode(std::string_view coding, std::string_view encoded, std::size_t piece,
               std::size_t limit = static_cast<std::size_t>(-1))
{
    content_decoder decoder(coding, limit);
    string_sink sink;
    decoded result;
    while (!encoded.empty() && !result.error)
    {
        std::string_view part = piece == 0 ? encoded : encoded.substr(0, piece);
        result.error = decoder.write(part, sink);
        encoded.remove_prefix(part.size());
    }
    if (!result.error)
        result.error = decoder.finish();
    result.detail = decoder.error_detail();
    result.body = std::move(sink.body);
    return result;
}

constexpr std::size_t splits[] = {0, 1, 2, 3, 100, 4096};

} // namespace

TEST_CASE("the decoder passes bytes through for identity, an empty coding and no coding")
{
    for (std::string_view coding : {"", "identity", " IDENTITY ", "identity, identity"})
    {
        CAPTURE(coding);
        content_decoder decoder(coding, 100);
        CHECK(decoder.passes_through());
        CHECK_FALSE(decoder.error());
        auto result = decode(coding, "plain bytes", 0);
        CHECK_FALSE(result.error);
        CHECK(result.body == "plain bytes");
    }
    content_decoder unlimited;
    string_sink sink;
    CHECK_FALSE(unlimited.write("abc", sink));
    CHECK_FALSE(unlimited.finish());
    CHECK(sink.body == "abc");
    CHECK(unlimited.decoded_size() == 3);
}

TEST_CASE("the decoder decodes gzip whatever the size of the pieces it arrives in")
{
    const std::string text = sample_text();
    const std::string gz = compress(text, gzip_bits);
    REQUIRE(gz.size() < text.size() / 4);
    for (std::size_t piece : splits)
    {
        CAPTURE(piece);
        auto result = decode("gzip", gz, piece);
        CHECK_FALSE(result.error);
        CHECK(result.body == text);
    }
}

TEST_CASE("the decoder reads coding names case-insensitively, and x-gzip as gzip")
{
    const std::string gz = compress("hello", gzip_bits);
    for (std::string_view coding : {"gzip", "GZIP", "x-gzip", "X-Gzip", " gzip ", "gzip, identity"})
    {
        CAPTURE(coding);
        auto result = decode(coding, gz, 0);
        CHECK_FALSE(result.error);
        CHECK(result.body == "hello");
    }
    CHECK(decode("Deflate", compress("hello", zlib_bits), 0).body == "hello");
}

TEST_CASE("the decoder takes deflate zlib-wrapped as the RFC says and raw as some servers send it")
{
    const std::string text = sample_text();
    for (int bits : {zlib_bits, raw_bits})
    {
        CAPTURE(bits);
        const std::string data = compress(text, bits);
        for (std::size_t piece : splits)
        {
            CAPTURE(piece);
            auto result = decode("deflate", data, piece);
            CHECK_FALSE(result.error);
            CHECK(result.body == text);
        }
    }
}

TEST_CASE("the decoder refuses unknown codings and lists of several codings, naming them")
{
    for (std::string_view coding : {"br", "zstd", "compress", "gzip, br", "gzip, gzip", "deflate,gzip"})
    {
        CAPTURE(coding);
        content_decoder decoder(coding, 100);
        CHECK(decoder.error() == errc::bad_content_encoding);
        CHECK(decoder.error_detail().find(std::string(coding)) != std::string::npos);
        string_sink sink;
        CHECK(decoder.write("x", sink) == errc::bad_content_encoding);
        CHECK(decoder.finish() == errc::bad_content_encoding);
        CHECK(sink.body.empty());
    }
    CHECK(content_decoder("br", 1).error_detail().find("not supported") != std::string::npos);
    CHECK(content_decoder("gzip, br", 1).error_detail().find("several") != std::string::npos);
}

TEST_CASE("the decoder decodes every member of concatenated gzip")
{
    const std::string joined = compress("first member, ", gzip_bits) + compress("second member", gzip_bits);
    for (std::size_t piece : splits)
    {
        CAPTURE(piece);
        auto result = decode("gzip", joined, piece);
        CHECK_FALSE(result.error);
        CHECK(result.body == "first member, second member");
    }
}

TEST_CASE("the decoder refuses data after the end of the compressed stream")
{
    for (std::size_t piece : splits)
    {
        CAPTURE(piece);
        auto deflate = decode("deflate", compress("text", zlib_bits) + "junk", piece);
        CHECK(deflate.error == errc::bad_content_encoding);
        CHECK(deflate.detail.find("follows the end") != std::string::npos);
        auto raw = decode("deflate", compress("text", raw_bits) + "x", piece);
        CHECK(raw.error == errc::bad_content_encoding);
        auto gzip = decode("gzip", compress("text", gzip_bits) + "not a gzip member", piece);
        CHECK(gzip.error == errc::bad_content_encoding);
        CHECK(gzip.detail.find("after gzip member 1") != std::string::npos);
    }
}

TEST_CASE("the decoder refuses corrupt compressed data with zlib's reason")
{
    std::string gz = compress(sample_text(), gzip_bits);
    gz[gz.size() / 2] ^= 0x55;
    gz[gz.size() / 2 + 1] ^= 0x55;
    for (std::size_t piece : splits)
    {
        CAPTURE(piece);
        auto result = decode("gzip", gz, piece);
        CHECK(result.error == errc::bad_content_encoding);
        CHECK(result.detail.find("zlib") != std::string::npos);
    }
    auto not_gzip = decode("gzip", "this is not compressed at all", 0);
    CHECK(not_gzip.error == errc::bad_content_encoding);
    CHECK(not_gzip.detail.find("corrupt") != std::string::npos);
    std::string bad_crc = compress("checked", gzip_bits);
    bad_crc[bad_crc.size() - 6] ^= 1; // the CRC-32 in the gzip trailer
    CHECK(decode("gzip", bad_crc, 0).error == errc::bad_content_encoding);
}

TEST_CASE("the decoder fails a compressed stream cut short when the body ends")
{
    const std::string gz = compress(sample_text(), gzip_bits);
    for (std::size_t cut : {std::size_t{1}, std::size_t{10}, gz.size() / 2, gz.size() - 1})
    {
        CAPTURE(cut);
        for (std::size_t piece : splits)
        {
            CAPTURE(piece);
            auto result = decode("gzip", std::string_view(gz).substr(0, cut), piece);
            CHECK(result.error == errc::bad_content_encoding);
            CHECK(result.detail.find("cut short") != std::string::npos);
        }
    }
    auto one_byte = decode("deflate", compress("x", zlib_bits).substr(0, 1), 0);
    CHECK(one_byte.error == errc::bad_content_encoding);
}

TEST_CASE("the decoder reads an empty body labelled gzip as an empty body")
{
    content_decoder decoder("gzip", 100);
    string_sink sink;
    CHECK_FALSE(decoder.write("", sink));
    CHECK_FALSE(decoder.finish());
    CHECK(sink.body.empty());
}

TEST_CASE("the decoded size may reach the limit but not pass it")
{
    const std::string text(50'000, 'a');
    for (int bits : {gzip_bits, zlib_bits})
    {
        CAPTURE(bits);
        const std::string data = compress(text, bits);
        for (std::size_t piece : splits)
        {
            CAPTURE(piece);
            auto exact = decode(bits == gzip_bits ? "gzip" : "deflate", data, piece, text.size());
            CHECK_FALSE(exact.error);
            CHECK(exact.body.size() == text.size());
            auto over = decode(bits == gzip_bits ? "gzip" : "deflate", data, piece, text.size() - 1);
            CHECK(over.error == errc::body_limit);
            CHECK(over.body.size() <= text.size() - 1);
            CHECK(over.detail.find(std::to_string(text.size() - 1)) != std::string::npos);
        }
    }
    auto plain = decode("identity", text, 0, 10);
    CHECK(plain.error == errc::body_limit);
    CHECK(plain.body.empty());
}

TEST_CASE("the decoder stops a gzip bomb after about the limit's worth of work, through a fixed buffer")
{
    // 64 MiB of zeros compress to about 64 KiB: a thousand-fold expansion.
    static const std::string bomb = compress({}, gzip_bits, 64u << 20);
    REQUIRE(bomb.size() < 100'000);
    constexpr std::size_t limit = 1u << 20;
    content_decoder decoder("gzip", limit);
    counting_sink sink;
    CHECK(decoder.write(bomb, sink) == errc::body_limit);
    CHECK(sink.total <= limit);
    CHECK(sink.total > limit - 16 * 1024);
    CHECK(sink.largest_piece <= 16 * 1024);
    CHECK(decoder.decoded_size() == sink.total);
    CHECK(decoder.finish() == errc::body_limit);
}

TEST_CASE("the decoder's errors are sticky and the sink's error stops decoding")
{
    content_decoder decoder("gzip", 100);
    refusing_sink refusing;
    CHECK(decoder.write(compress("text", gzip_bits), refusing) == errc::internal);
    string_sink sink;
    CHECK(decoder.write(compress("text", gzip_bits), sink) == errc::internal);
    CHECK(decoder.finish() == errc::internal);
    CHECK(sink.body.empty());
    CHECK_FALSE(decoder.error_detail().empty());

    content_decoder plain("", 100);
    CHECK(plain.write("text", refusing) == errc::internal);
}

TEST_CASE("a moved decoder carries on where the original stopped")
{
    const std::string text = sample_text();
    const std::string gz = compress(text, gzip_bits);
    content_decoder first("gzip", text.size());
    string_sink sink;
    REQUIRE_FALSE(first.write(std::string_view(gz).substr(0, 100), sink));
    content_decoder second(std::move(first));
    REQUIRE_FALSE(second.write(std::string_view(gz).substr(100), sink));
    content_decoder third;
    third = std::move(second);
    CHECK_FALSE(third.finish());
    CHECK(sink.body == text);
    CHECK(third.decoded_size() == text.size());
}
