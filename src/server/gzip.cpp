#include "server/gzip.hpp"

#include "server/http_field.hpp"

#include <zlib.h>

#include <algorithm>
#include <optional>
#include <stdexcept>

namespace fxrates::detail {

namespace {

// zlib's windowBits for a gzip wrapper instead of a zlib one: the largest window, plus 16.
constexpr int gzip_window_bits = 15 + 16;
constexpr int memory_level = 8;

// zlib's deflate with a gzip wrapper, fed in pieces; one member per object.
class gzip_deflater
{
public:
    explicit gzip_deflater(int level, int strategy)
    {
        if (deflateInit2(&stream_, level, Z_DEFLATED, gzip_window_bits, memory_level, strategy) != Z_OK)
            throw std::runtime_error("zlib: deflateInit2 failed");
    }
    ~gzip_deflater() { deflateEnd(&stream_); }
    gzip_deflater(const gzip_deflater&) = delete;
    gzip_deflater& operator=(const gzip_deflater&) = delete;

    // Compresses `input`, appending to `out`; `last` ends the member.
    void add(std::string_view input, bool last, std::string& out)
    {
        // zlib's interface is not const-correct; it never writes through next_in.
        stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
        stream_.avail_in = static_cast<uInt>(input.size());
        int flush = last ? Z_FINISH : Z_NO_FLUSH;
        int result = Z_OK;
        do
        {
            unsigned char chunk[16 * 1024];
            stream_.next_out = chunk;
            stream_.avail_out = sizeof chunk;
            result = deflate(&stream_, flush);
            if (result == Z_STREAM_ERROR)
                throw std::runtime_error("zlib: deflate failed");
            out.append(reinterpret_cast<const char*>(chunk), sizeof chunk - stream_.avail_out);
        } while (stream_.avail_out == 0 || (last && result != Z_STREAM_END));
    }

private:
    z_stream stream_{};
};

char lower(char c) noexcept
{
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept
{
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

// An RFC 9110 qvalue in thousandths: `0` ["." 0*3DIGIT] or `1` ["." 0*3("0")].
std::optional<int> parse_qvalue(std::string_view text) noexcept
{
    if (text.empty() || (text[0] != '0' && text[0] != '1'))
        return std::nullopt;
    int whole = text[0] - '0';
    text.remove_prefix(1);
    if (text.empty())
        return whole * 1000;
    if (text[0] != '.' || text.size() > 4)
        return std::nullopt;
    text.remove_prefix(1);
    int fraction = 0, scale = 100;
    for (char c : text)
    {
        if (c < '0' || c > '9')
            return std::nullopt;
        fraction += (c - '0') * scale;
        scale /= 10;
    }
    if (whole == 1 && fraction != 0)
        return std::nullopt;
    return whole * 1000 + fraction;
}

} // namespace

std::string gzip_compress(std::string_view data)
{
    gzip_deflater deflater(Z_DEFAULT_COMPRESSION, Z_DEFAULT_STRATEGY);
    std::string out;
    deflater.add(data, true, out);
    return out;
}

std::string gzip_zeros(std::uint64_t size)
{
    // Run-length matching finds the same 258-byte matches as full deflate on zeros, far faster.
    gzip_deflater deflater(Z_BEST_COMPRESSION, Z_RLE);
    static constexpr char zeros[64 * 1024] = {};
    std::string out;
    do
    {
        auto piece = static_cast<std::size_t>(std::min<std::uint64_t>(size, sizeof zeros));
        size -= piece;
        deflater.add(std::string_view(zeros, piece), size == 0, out);
    } while (size > 0);
    return out;
}

bool accepts_gzip(std::string_view accept_encoding) noexcept
{
    std::optional<int> gzip_q, any_q;
    while (!accept_encoding.empty())
    {
        auto comma = accept_encoding.find(',');
        auto element = accept_encoding.substr(0, comma);
        accept_encoding.remove_prefix(comma == std::string_view::npos ? accept_encoding.size() : comma + 1);

        auto semicolon = element.find(';');
        auto coding = without_ows(element.substr(0, semicolon));
        if (coding.empty())
            continue;
        std::optional<int> q = 1000;
        while (semicolon != std::string_view::npos && q)
        {
            element.remove_prefix(semicolon + 1);
            semicolon = element.find(';');
            auto parameter = element.substr(0, semicolon);
            auto equals = parameter.find('=');
            if (equals != std::string_view::npos && iequals(without_ows(parameter.substr(0, equals)), "q"))
                q = parse_qvalue(without_ows(parameter.substr(equals + 1)));
        }
        if (!q)
            continue;
        // The same coding listed twice is not meaningful; the most favourable mention counts.
        if (iequals(coding, "gzip") || iequals(coding, "x-gzip"))
            gzip_q = std::max(gzip_q.value_or(0), *q);
        else if (coding == "*")
            any_q = std::max(any_q.value_or(0), *q);
    }
    if (gzip_q)
        return *gzip_q > 0;
    return any_q && *any_q > 0;
}

} // namespace fxrates::detail
