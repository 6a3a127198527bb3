#include "client/http/content_decoder.hpp"

#include "client/http/ascii.hpp"
#include "client/http/server_text.hpp"

#include <algorithm>
#include <utility>

// Makes z_stream::next_in a pointer to const, so the encoded bytes need no const_cast.
#define ZLIB_CONST
#include <zlib.h>

namespace fxrates::detail
{

namespace
{

constexpr std::size_t no_limit = static_cast<std::size_t>(-1);


std::string_view trim(std::string_view text) noexcept
{
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
        text.remove_suffix(1);
    return text;
}

std::string quoted(std::string_view text)
{
    return quoted_server_text(text, 60);
}

// RFC 1950: CM (low nibble of CMF) is 8, CINFO at most 7, and CMF*256 + FLG is a multiple of 31.
// Raw deflate starts with a block header instead (bit 0 BFINAL, bits 1-2 BTYPE). A low nibble of 8
// would be a non-final stored block whose padding bit 3 is set, and encoders write padding as zeros.
bool looks_like_zlib_header(unsigned char cmf, unsigned char flg) noexcept
{
    return (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && ((cmf << 8) | flg) % 31 == 0;
}

} // namespace

void content_decoder::stream_deleter::operator()(z_stream_s* stream) const noexcept
{
    // inflateEnd is harmless on a stream whose inflateInit2 failed: it sees no state and returns.
    inflateEnd(stream);
    delete stream;
}

content_decoder::content_decoder() noexcept = default;

content_decoder::content_decoder(std::string_view coding, std::size_t limit) : limit_(limit)
{
    // Content-Encoding is a list; identity is a no-op and empty elements are allowed (RFC 9110 5.6.1).
    std::string_view chosen;
    std::size_t codings = 0;
    for (std::string_view rest = coding; !rest.empty();)
    {
        std::size_t comma = rest.find(',');
        std::string_view element = trim(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        if (element.empty() || iequals(element, "identity"))
            continue;
        chosen = element;
        ++codings;
    }
    if (codings == 0)
        return;
    if (codings > 1)
    {
        fail(errc::bad_content_encoding, "the Content-Encoding " + quoted(trim(coding)) +
                                             " applies several codings; fxrates decodes a single gzip or "
                                             "deflate coding");
        return;
    }
    if (iequals(chosen, "gzip") || iequals(chosen, "x-gzip"))
        kind_ = kind::gzip;
    else if (iequals(chosen, "deflate"))
        kind_ = kind::deflate;
    else
        fail(errc::bad_content_encoding, "the Content-Encoding " + quoted(chosen) +
                                             " is not supported; fxrates decodes gzip and deflate");
}

content_decoder::content_decoder(content_decoder&& other) noexcept
    : stream_(std::move(other.stream_)), limit_(other.limit_), decoded_(other.decoded_),
      members_(other.members_), error_(other.error_), detail_(std::move(other.detail_)), kind_(other.kind_),
      phase_(other.phase_), has_first_byte_(other.has_first_byte_), first_byte_(other.first_byte_)
{
    // The source lost its zlib stream: leave it a pass-through decoder rather than a broken one.
    other.kind_ = kind::identity;
    other.phase_ = phase::not_started;
}

content_decoder& content_decoder::operator=(content_decoder&& other) noexcept
{
    if (this != &other)
    {
        stream_ = std::move(other.stream_);
        limit_ = other.limit_;
        decoded_ = other.decoded_;
        members_ = other.members_;
        error_ = other.error_;
        detail_ = std::move(other.detail_);
        kind_ = std::exchange(other.kind_, kind::identity);
        phase_ = std::exchange(other.phase_, phase::not_started);
        has_first_byte_ = other.has_first_byte_;
        first_byte_ = other.first_byte_;
    }
    return *this;
}

content_decoder::~content_decoder() = default;

error_code content_decoder::fail(error_code code, std::string detail)
{
    error_ = code;
    detail_ = std::move(detail);
    phase_ = phase::failed;
    return error_;
}

error_code content_decoder::write(std::string_view encoded, body_sink& out)
{
    if (phase_ == phase::failed)
        return error_;
    if (encoded.empty())
        return {};
    if (kind_ == kind::identity)
    {
        if (encoded.size() > limit_ - decoded_)
            return fail(errc::body_limit,
                        "the body is larger than the limit of " + std::to_string(limit_) + " bytes");
        decoded_ += encoded.size();
        if (error_code code = out.write(encoded))
            return fail(code, "the body sink refused the body: " + code.message());
        return {};
    }

    if (phase_ == phase::not_started)
    {
        // Raw and zlib-wrapped deflate differ in their first two bytes: hold a lone first byte.
        if (kind_ == kind::deflate && !has_first_byte_ && encoded.size() == 1)
        {
            first_byte_ = encoded.front();
            has_first_byte_ = true;
            return {};
        }
        if (has_first_byte_)
        {
            const char first_two[2] = {first_byte_, encoded.front()};
            has_first_byte_ = false;
            if (error_code code = start({first_two, 2}))
                return code;
            if (error_code code = inflate_some({first_two, 2}, out))
                return code;
            encoded.remove_prefix(1);
        }
        else if (error_code code = start(encoded))
            return code;
    }

    // avail_in is a 32-bit uInt: hand over giant pieces in parts.
    constexpr std::size_t most = 1u << 30;
    while (!encoded.empty())
    {
        std::string_view part = encoded.substr(0, most);
        if (error_code code = inflate_some(part, out))
            return code;
        encoded.remove_prefix(part.size());
    }
    return {};
}

error_code content_decoder::start(std::string_view first_bytes)
{
    // 15 is the largest window; +32 lets gzip also take a zlib stream (as curl does), and a
    // negative size means raw deflate.
    int window_bits = MAX_WBITS + 32;
    if (kind_ == kind::deflate)
    {
        auto cmf = static_cast<unsigned char>(first_bytes[0]);
        auto flg = static_cast<unsigned char>(first_bytes[1]);
        window_bits = looks_like_zlib_header(cmf, flg) ? MAX_WBITS : -MAX_WBITS;
    }
    stream_.reset(new z_stream{});
    if (int rc = inflateInit2(stream_.get(), window_bits); rc != Z_OK)
        return fail(errc::bad_content_encoding, std::string("zlib could not start decoding: ") +
                                                    (rc == Z_MEM_ERROR ? "out of memory" : zError(rc)));
    phase_ = phase::running;
    members_ = 1;
    return {};
}

error_code content_decoder::inflate_some(std::string_view encoded, body_sink& out)
{
    z_stream& z = *stream_;
    z.next_in = reinterpret_cast<const Bytef*>(encoded.data());
    z.avail_in = static_cast<uInt>(encoded.size());

    // The decoded bytes pass through this buffer only, and each inflate call may write at most one
    // byte past the limit: that bounds both memory and the work a compression bomb can cause.
    unsigned char buffer[16 * 1024];
    for (;;)
    {
        if (phase_ == phase::ended)
        {
            if (z.avail_in == 0)
                return {};
            if (kind_ != kind::gzip)
                return fail(errc::bad_content_encoding, "data follows the end of the deflate stream (" +
                                                            std::to_string(z.avail_in) +
                                                            " more bytes in this piece)");
            // Another gzip member: RFC 1952 allows several, and `gzip -c a b` makes them.
            inflateReset(&z);
            ++members_;
            phase_ = phase::running;
        }

        std::size_t room_left = limit_ - decoded_;
        std::size_t room = room_left < sizeof buffer ? room_left + 1 : sizeof buffer;
        z.next_out = buffer;
        z.avail_out = static_cast<uInt>(room);
        int rc = inflate(&z, Z_NO_FLUSH);
        std::size_t produced = room - z.avail_out;
        if (produced > room_left)
            return fail(errc::body_limit,
                        "the decoded body is larger than the limit of " + std::to_string(limit_) + " bytes");
        if (produced != 0)
        {
            decoded_ += produced;
            if (error_code code = out.write({reinterpret_cast<const char*>(buffer), produced}))
                return fail(code, "the body sink refused the body: " + code.message());
        }

        switch (rc)
        {
        case Z_STREAM_END:
            phase_ = phase::ended;
            break;
        case Z_OK:
            // With input left, or a full buffer (zlib may hold more output), go round again.
            if (z.avail_in == 0 && z.avail_out != 0)
                return {};
            break;
        case Z_BUF_ERROR:
            // No progress possible: with room to write, that means all input is used and all
            // output is out, which is not an error.
            if (z.avail_in == 0)
                return {};
            [[fallthrough]];
        default:
        {
            std::string what = kind_ == kind::gzip ? "gzip" : "deflate";
            std::string why = rc == Z_NEED_DICT  ? "it needs a preset dictionary"
                              : z.msg != nullptr ? std::string("zlib: ") + z.msg
                                                 : std::string("zlib: ") + zError(rc);
            if (kind_ == kind::gzip && members_ > 1)
                return fail(errc::bad_content_encoding, "the data after gzip member " +
                                                            std::to_string(members_ - 1) +
                                                            " is not a valid gzip member (" + why + ")");
            return fail(errc::bad_content_encoding, "the " + what + " data is corrupt (" + why + ")");
        }
        }
    }
}

error_code content_decoder::finish()
{
    switch (phase_)
    {
    case phase::failed:
        return error_;
    case phase::not_started:
        if (has_first_byte_)
            return fail(errc::bad_content_encoding, "the deflate data ends after its first byte");
        return {};
    case phase::running:
        return fail(errc::bad_content_encoding,
                    std::string("the ") + (kind_ == kind::gzip ? "gzip" : "deflate") +
                        " data is cut short: the body ends inside the compressed stream");
    case phase::ended:
        return {};
    }
    return {};
}

} // namespace fxrates::detail
