#pragma once

// A sans-io HTTP/1.1 response parser (RFC 9112): bytes in, the head and the decoded body out. It
// knows nothing of sockets, so the transport reads, feeds what it read, and acts on what the parser
// says: done, error, or bytes left over.

#include "client/http/body_sink.hpp"
#include "client/http/content_decoder.hpp"

#include <fxrates/error.hpp>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fxrates::detail
{

/// How much of an answer the parser accepts.
struct response_limits
{
    /// Largest head: the status line and the fields, with their line endings and the empty line
    /// that ends them, the 1xx interim answers before it included. The chunk-size lines (with extensions) and
    /// the trailers of one answer share a second allowance of the same size.
    std::size_t header_limit = 64 * 1024;

    /// Largest body once its Content-Encoding is decoded.
    std::size_t body_limit = 1024 * 1024;
};

/// One header field, viewing the `response_head` that holds it.
struct header_field
{
    std::string_view name;  ///< as sent; compare case-insensitively
    std::string_view value; ///< without surrounding whitespace; folded lines joined with a space
};

/// The status line and header fields of an answer.
///
/// The text lives in one buffer and the fields are offsets into it, so a head costs two
/// allocations however many fields it has. Copies are independent. A `header_field` or view
/// obtained from a head stays valid when the head is moved, until it changes or is destroyed.
class response_head
{
public:
    /// The fields in the order sent: `for (header_field field : head.fields())`.
    class field_range;

    unsigned status = 0;
    unsigned version = 11; ///< 10 or 11

    std::string_view reason() const noexcept { return text().substr(0, reason_size_); }

    field_range fields() const noexcept;
    std::size_t field_count() const noexcept { return spans_.size(); }
    header_field field(std::size_t index) const noexcept
    {
        const span& s = spans_[index];
        std::string_view text = this->text();
        return {text.substr(s.at, s.name_size), text.substr(s.at + s.name_size, s.value_size)};
    }

    /// The value of the first field named `name` (case-insensitive), or empty optional.
    std::optional<std::string_view> find(std::string_view name) const noexcept;

    /// Forgets status, reason and fields, keeping the memory.
    void clear() noexcept;
    /// Sets the reason; call before adding fields.
    void set_reason(std::string_view reason);
    void add_field(std::string_view name, std::string_view value);
    /// Appends `more` to the last field's value, after a space unless the value is empty (obs-fold).
    void extend_last_value(std::string_view more);
    /// Makes room for `text_size` bytes of text and `fields` fields.
    void reserve(std::size_t text_size, std::size_t fields);

private:
    struct span
    {
        std::size_t at;
        std::size_t name_size;
        std::size_t value_size; // the value follows the name directly
    };

    std::string_view text() const noexcept { return {text_.data(), text_.size()}; }
    void append(std::string_view more) { text_.insert(text_.end(), more.begin(), more.end()); }

    // The reason, then each field's name and value back to back. A vector, not a string: moving a
    // vector keeps its buffer (a short string's would move), so views survive moving the head.
    std::vector<char> text_;
    std::vector<span> spans_;
    std::size_t reason_size_ = 0;
};

class response_head::field_range
{
public:
    class iterator
    {
    public:
        using iterator_concept = std::forward_iterator_tag;
        using iterator_category = std::input_iterator_tag; // yields values, not references
        using value_type = header_field;
        using difference_type = std::ptrdiff_t;

        iterator() = default;
        iterator(const response_head* head, std::size_t index) noexcept : head_(head), index_(index) {}

        header_field operator*() const noexcept { return head_->field(index_); }
        iterator& operator++() noexcept
        {
            ++index_;
            return *this;
        }
        iterator operator++(int) noexcept
        {
            iterator before = *this;
            ++index_;
            return before;
        }
        friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.index_ == b.index_; }

    private:
        const response_head* head_ = nullptr;
        std::size_t index_ = 0;
    };

    explicit field_range(const response_head& head) noexcept : head_(&head) {}

    iterator begin() const noexcept { return {head_, 0}; }
    iterator end() const noexcept { return {head_, head_->field_count()}; }
    std::size_t size() const noexcept { return head_->field_count(); }
    bool empty() const noexcept { return size() == 0; }
    header_field operator[](std::size_t index) const noexcept { return head_->field(index); }

private:
    const response_head* head_;
};

inline response_head::field_range response_head::fields() const noexcept
{
    return field_range(*this);
}

/// A `Content-Range` value (RFC 9110 14.4): `bytes FIRST-LAST/LENGTH`, `bytes FIRST-LAST/*`, or
/// `bytes */LENGTH` (a 416's: nothing of LENGTH bytes was satisfiable).
struct content_range
{
    bool satisfied = true;                        ///< false for `bytes */LENGTH`
    std::uint64_t first = 0;                      ///< the first byte's position
    std::uint64_t last = 0;                       ///< the last byte's position (inclusive)
    std::optional<std::uint64_t> complete_length; ///< none for `*`
};

/// Parses a Content-Range value strictly, as untrusted text: the unit `bytes` (any case), one
/// space, decimal numbers without signs or spaces that fit in 64 bits, FIRST <= LAST, and LAST <
/// LENGTH when LENGTH is known. Anything else (another unit, extra text, a list) is none.
std::optional<content_range> parse_content_range(std::string_view value) noexcept;

/// What the head of a final answer says of its body, for `body_sink::begin`: the status, the
/// offset of a 206 (its Content-Range's first byte; 0 for any other status or a 206 whose
/// Content-Range does not parse), the whole size, the validators and whether it is encoded.
body_head describe_body(const response_head& head);

/// Parses one HTTP/1.x answer from the bytes of a connection, skipping 1xx interim answers.
///
/// Feed it what the connection delivers, in pieces of any size, until `done()` or `error()`; call
/// `feed_eof()` when the peer closes. The head is kept; the body is decoded (Content-Encoding gzip
/// or deflate) and passed to the sink as it arrives, never held. Memory stays bounded: at most one
/// partial line (within the header limit), the head, and the decoder's fixed state.
///
/// Errors (sticky; `error_detail()` says exactly what was wrong):
/// - `errc::bad_http`: not HTTP/1.x as RFC 9112 allows it, or a 101 (we never ask to upgrade);
/// - `errc::http2_only`: the peer sent HTTP/2 frames;
/// - `errc::header_limit`, `errc::body_limit`: see `response_limits`;
/// - `errc::truncated_answer`: the connection closed before the answer was complete;
/// - `errc::bad_content_encoding`: see `content_decoder`;
/// - anything the sink returns.
///
/// Not thread-safe. The sink must outlive the parser. Parse each answer with a fresh parser.
class response_parser
{
public:
    response_parser(response_limits limits, body_sink& sink, bool head_request = false);

    /// Consumes bytes of the answer; returns how many it took. Stops taking at the end of the final
    /// answer (bytes after it are left to the caller: a connection with bytes left over must not be
    /// reused) or at an error.
    std::size_t feed(std::string_view data);

    /// The peer closed the connection: `clean` for a TCP FIN on plain HTTP or a TLS close_notify,
    /// not for a TLS close without close_notify. A clean close ends a close-delimited body; an
    /// unclean one cannot, since a body cut short (a truncation attack, a server that died) looks
    /// the same, and fails as curl does. Anything else unfinished becomes errc::truncated_answer
    /// (or bad_http if no status line came).
    void feed_eof(bool clean = true);

    /// The final answer is complete.
    bool done() const noexcept { return state_ == state::done; }
    /// The final answer's head is parsed.
    bool head_done() const noexcept { return head_done_; }
    /// Any byte of an answer arrived (1xx included).
    bool got_bytes() const noexcept { return got_bytes_; }
    /// Set once, sticky.
    error_code error() const noexcept { return error_; }
    /// What exactly was wrong, for diagnostics; empty without an error. Quotes the server's bytes
    /// (escaped and shortened), so treat it as untrusted text.
    const std::string& error_detail() const noexcept { return error_detail_; }
    /// The final answer's head once `head_done()`; before that, the head being parsed.
    const response_head& head() const noexcept { return head_; }
    /// Moves the final answer's head out (once done); the parser is spent afterwards.
    response_head take_head() noexcept { return std::move(head_); }
    /// 1xx answers skipped.
    unsigned interim_responses() const noexcept { return interim_; }
    /// After done(): the connection may carry another request (HTTP/1.1 without "Connection: close",
    /// or 1.0 with "keep-alive"; never for a close-delimited body).
    bool keep_alive() const noexcept { return done() && keep_alive_; }
    /// Decoded body bytes passed to the sink.
    std::size_t body_bytes() const noexcept { return decoder_.decoded_size(); }

private:
    enum class state : unsigned char
    {
        status_line,
        field_line,
        body_length, // Content-Length bytes to go in remaining_
        body_close,  // until feed_eof
        chunk_size,
        chunk_data,    // remaining_ bytes of the chunk to go
        chunk_data_cr, // the line ending after a chunk's data
        chunk_data_lf,
        trailer_line,
        done,
        failed,
    };

    enum class line_status : unsigned char
    {
        ready,
        more,
        too_long,
        bare_cr,
    };

    line_status next_line(const char*& p, const char* end, std::size_t& used, std::string_view& line);
    bool on_start(const char* p, const char* end);
    void on_status_line(std::string_view line);
    void on_field_line(std::string_view line);
    void on_head_end();
    void on_chunk_size(std::string_view line);
    void on_trailer_line(std::string_view line);
    void deliver(const char* p, std::size_t size);
    void finish_body();
    void fail(error_code code, std::string detail);

    response_limits limits_;
    body_sink* sink_;
    content_decoder decoder_;
    response_head head_;
    std::string line_;          // a line that arrived in parts; never longer than the header limit
    std::size_t head_used_ = 0; // bytes of this answer's head so far
    std::size_t meta_used_ = 0; // bytes of this answer's chunk-size lines and trailers so far
    std::uint64_t remaining_ = 0;
    error_code error_;
    std::string error_detail_;
    unsigned interim_ = 0;
    state state_ = state::status_line;
    bool head_request_;
    bool clear_line_ = false;    // line_ held the last line returned: empty it before the next
    bool start_checked_ = false; // the first bytes were checked for HTTP/2
    bool status_seen_ = false;   // a complete status line arrived (of any answer)
    bool head_done_ = false;
    bool got_bytes_ = false;
    bool keep_alive_ = false;
};

} // namespace fxrates::detail
