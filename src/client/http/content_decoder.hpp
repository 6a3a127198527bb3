#pragma once

// Streaming Content-Encoding decoding (gzip and deflate, with zlib) for the response parser.
// Compressed bytes go in as they arrive; decoded bytes go out to a body_sink through a fixed 16 KiB
// buffer, so memory never grows with the decoded size and a compression bomb costs at most about
// `limit` bytes of work before it is refused.

#include "client/http/body_sink.hpp"

#include <fxrates/error.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

struct z_stream_s; // zlib's stream, kept out of this header

namespace fxrates::detail
{

/// Decodes one body's Content-Encoding, piece by piece, up to a limit on the decoded size.
///
/// Codings: `gzip` and `x-gzip` (several concatenated gzip members are decoded one after the other),
/// `deflate` (zlib-wrapped as RFC 9110 says, or raw deflate as some servers send it: the first two
/// bytes tell which), and `identity` or an empty value, which pass the bytes through. Names are
/// case-insensitive. Anything else, including a list of several codings, is refused.
///
/// Errors are sticky: after the first, `write` and `finish` return it again.
/// - `errc::bad_content_encoding`: an unknown coding, corrupt data, data after the end of the
///   compressed stream, or a stream cut short (from `finish`). `error_detail()` says which.
/// - `errc::body_limit`: the decoded body would pass the limit.
/// - anything the sink returns.
///
/// Movable, not copyable. Not thread-safe.
class content_decoder
{
public:
    /// A decoder that passes bytes through without a limit.
    content_decoder() noexcept;

    /// A decoder for the Content-Encoding value `coding` whose decoded output stops at `limit` bytes.
    /// An unknown coding leaves it failed: `error()` is `errc::bad_content_encoding` and
    /// `error_detail()` names the coding.
    content_decoder(std::string_view coding, std::size_t limit);

    content_decoder(content_decoder&&) noexcept;
    content_decoder& operator=(content_decoder&&) noexcept;
    ~content_decoder();

    /// Decodes the next piece of the encoded body and passes what it decodes to `out`. Fails with
    /// `errc::body_limit` as soon as the decoded size would pass the limit; `out` never receives a
    /// byte past it.
    error_code write(std::string_view encoded, body_sink& out);

    /// The encoded body is complete: succeeds if the compressed stream ended where it should.
    /// An empty body counts as a complete stream of nothing (servers label empty bodies gzip too).
    error_code finish();

    /// True if the bytes pass through unchanged (identity).
    bool passes_through() const noexcept { return kind_ == kind::identity; }

    /// Decoded bytes given to the sink so far.
    std::size_t decoded_size() const noexcept { return decoded_; }

    error_code error() const noexcept { return error_; }

    /// What was wrong, for diagnostics; empty without an error.
    const std::string& error_detail() const noexcept { return detail_; }

private:
    enum class kind : unsigned char
    {
        identity,
        gzip,
        deflate,
    };

    enum class phase : unsigned char
    {
        not_started, // no encoded byte seen yet (deflate may hold its first byte in first_byte_)
        running,     // inside a compressed stream
        ended,       // after the end of a compressed stream (a gzip member may follow)
        failed,
    };

    struct stream_deleter
    {
        void operator()(z_stream_s* stream) const noexcept;
    };

    error_code start(std::string_view first_bytes);
    error_code inflate_some(std::string_view encoded, body_sink& out);
    error_code fail(error_code code, std::string detail);

    std::unique_ptr<z_stream_s, stream_deleter> stream_;
    std::size_t limit_ = static_cast<std::size_t>(-1);
    std::size_t decoded_ = 0;
    std::size_t members_ = 0; // gzip members started
    error_code error_;
    std::string detail_;
    kind kind_ = kind::identity;
    phase phase_ = phase::not_started;
    bool has_first_byte_ = false; // deflate: one byte seen, not enough to tell zlib from raw
    char first_byte_ = 0;
};

} // namespace fxrates::detail
