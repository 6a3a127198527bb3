#pragma once

// `fxrates fetch --report FILE`: one JSON object a line per item, for scripts. Everything a server
// sends (its final URL, its content type, its error text) is untrusted and may be invalid UTF-8;
// the line is valid UTF-8 JSON whatever it sent.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace fxrates::cli::fetch {

/// The schema name each report line starts with; a new version of it gets a new number.
inline constexpr std::string_view report_schema = "fxrates.fetch/1";

/// What happened to one item. Absent values are JSON null in the line: empty strings (but `url`),
/// `status` 0 (no answer), and the phases not reached or not measured.
struct report_record
{
    std::size_t index = 0;               ///< position in the input, from 1 (the `{index}` of output names)
    std::size_t line = 0;                ///< line of the list or values file
    std::string url;                     ///< the URL asked for
    std::string final_url;               ///< the URL answered, after redirects (untrusted)
    unsigned status = 0;                 ///< the final HTTP status
    std::uint64_t bytes = 0;             ///< body bytes written
    std::string sha256;                  ///< hex digest of those bytes
    std::string file;                    ///< the output file, relative to -o DIR; empty for stdout
    std::string content_type;            ///< the answer's Content-Type (untrusted)
    unsigned attempts = 0;               ///< requests made, retries included
    std::optional<double> queued_ms;     ///< waiting for a connection slot or the rate limit
    std::optional<double> connect_ms;    ///< TCP connect
    std::optional<double> tls_ms;        ///< TLS handshake
    std::optional<double> first_byte_ms; ///< from sending the request to the first byte of the answer
    std::optional<double> total_ms;      ///< from the start of the item to its end
    bool ok = false;
    bool not_modified = false; ///< a 304 to a conditional request (--refresh): the file was kept as it was
    bool skipped = false;      ///< --continue found the file complete: nothing was fetched
    std::uint64_t resumed_from = 0; ///< bytes of the body held from before (a resumed download)
    std::string error_category; ///< a stable word for scripts ("timeout", "http", "exists"); empty if ok
    std::string error_message;  ///< a sentence for people (may quote the server: untrusted)
};

/// The report line of `record`, without the newline: `{"schema":"fxrates.fetch/1","index":1,...}`,
/// in the order of the struct, times in milliseconds with microsecond precision, and `"error"` an
/// object `{"category":...,"message":...}` or null. Bytes that are not UTF-8 become U+FFFD.
std::string report_line(const report_record& record);

/**
 * SHA-256 of a body as it streams by (OpenSSL EVP), for the report's `sha256`.
 *
 * Errors: OpenSSL failing to set up or run SHA-256 (out of memory, a FIPS provider without it) is
 * a programming or installation error and throws std::runtime_error. Move-only; no thread safety.
 */
class sha256_hasher
{
public:
    sha256_hasher();
    sha256_hasher(sha256_hasher&&) noexcept;
    sha256_hasher& operator=(sha256_hasher&&) noexcept;
    ~sha256_hasher();

    /// Adds `data` to the digest.
    void update(std::string_view data);

    /// The digest of all data since construction or the last `reset`, as 64 lowercase hex digits;
    /// the hasher then starts over.
    std::string hex_digest();

    /// Starts over (a retried item's body replaces what was hashed).
    void reset();

private:
    struct context;
    std::unique_ptr<context> context_;
};

} // namespace fxrates::cli::fetch
