#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace fxrates::detail {

/// `data` as one gzip member (RFC 1952), as a front end sends with `Content-Encoding: gzip`.
std::string gzip_compress(std::string_view data);

/// A gzip member that inflates to `size` zero bytes. The zeros are fed to deflate in small pieces,
/// so they are never in memory; the result is about a thousandth of `size`.
std::string gzip_zeros(std::uint64_t size);

/// Whether an `Accept-Encoding` field value (several fields joined with commas) accepts gzip: an
/// explicit `gzip` or `x-gzip` with a q-value above 0, or else a `*` with one. A coding whose
/// q-value is malformed is ignored, as RFC 9110 lets a server do.
bool accepts_gzip(std::string_view accept_encoding) noexcept;

} // namespace fxrates::detail
