#include "client/http/response_parser.hpp"

#include "client/http/ascii.hpp"
#include "client/http/server_text.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>
#include <limits>
#include <utility>

namespace fxrates::detail
{

namespace
{


bool is_ows(char c) noexcept
{
    return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view text) noexcept
{
    while (!text.empty() && is_ows(text.front()))
        text.remove_prefix(1);
    while (!text.empty() && is_ows(text.back()))
        text.remove_suffix(1);
    return text;
}

bool has_nul(std::string_view text) noexcept
{
    return std::memchr(text.data(), '\0', text.size()) != nullptr;
}

// tchar of RFC 9110 5.6.2.
constexpr std::array<bool, 256> token_chars = []
{
    std::array<bool, 256> table{};
    for (unsigned char c = '0'; c <= '9'; ++c)
        table[c] = true;
    for (unsigned char c = 'a'; c <= 'z'; ++c)
        table[c] = table[c - 'a' + 'A'] = true;
    for (unsigned char c : std::string_view("!#$%&'*+-.^_`|~"))
        table[c] = true;
    return table;
}();

bool is_token(std::string_view text) noexcept
{
    if (text.empty())
        return false;
    for (char c : text)
        if (!token_chars[static_cast<unsigned char>(c)])
            return false;
    return true;
}

int hex_digit(char c) noexcept
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = ascii_lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

std::string quoted(std::string_view text)
{
    return quoted_server_text(text, 80);
}

// Calls `each` with every non-empty element of a comma-separated list, trimmed (RFC 9110 5.6.1
// lets lists have empty elements).
template <class Each> void for_each_element(std::string_view list, Each each)
{
    while (!list.empty())
    {
        std::size_t comma = list.find(',');
        std::string_view element = trim(list.substr(0, comma));
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
        if (!element.empty())
            each(element);
    }
}

// A whole decimal number as RFC 9110 writes positions and lengths (1*DIGIT), within 64 bits.
std::optional<std::uint64_t> parse_decimal(std::string_view text) noexcept
{
    if (text.empty())
        return std::nullopt;
    constexpr std::uint64_t most = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t number = 0;
    for (char c : text)
    {
        auto digit = static_cast<unsigned>(c - '0');
        if (c < '0' || c > '9' || number > (most - digit) / 10)
            return std::nullopt;
        number = number * 10 + digit;
    }
    return number;
}

// What the Content-Length fields say. RFC 9110 8.6 lets a recipient accept a list of identical
// values (from proxies that merged fields); anything else means the framing cannot be trusted.
struct content_length
{
    bool present = false;
    std::uint64_t value = 0;
    std::string problem; // the first thing wrong, or empty

    void add_field(std::string_view field_value)
    {
        std::size_t elements = 0;
        for_each_element(field_value,
                         [&](std::string_view element)
                         {
                             ++elements;
                             add_element(element, field_value);
                         });
        if (elements == 0 && problem.empty())
            problem = "the Content-Length " + quoted(field_value) + " is empty";
    }

    void add_element(std::string_view element, std::string_view field_value)
    {
        auto parsed = parse_decimal(element);
        if (!parsed)
        {
            if (problem.empty())
                problem = "the Content-Length " + quoted(field_value) + " is not a valid length";
            return;
        }
        std::uint64_t number = *parsed;
        if (present && number != value && problem.empty())
            problem = "the answer has different Content-Length values (" + std::to_string(value) + " and " +
                      std::to_string(number) + ")";
        present = true;
        value = number;
    }
};

// Splits a field line into a name and a trimmed value. A line starting with whitespace is an
// obs-fold continuation: `name` stays empty and `value` is the trimmed line. On a syntax error
// returns false and says why.
bool split_field_line(std::string_view line, std::string_view& name, std::string_view& value,
                      std::string& why)
{
    if (has_nul(line))
    {
        why = "the field line " + quoted(line) + " contains a NUL byte";
        return false;
    }
    if (is_ows(line.front()))
    {
        name = {};
        value = trim(line);
        return true;
    }
    auto colon = static_cast<const char*>(std::memchr(line.data(), ':', line.size()));
    if (colon == nullptr)
    {
        why = "the field line " + quoted(line) + " has no colon";
        return false;
    }
    name = line.substr(0, static_cast<std::size_t>(colon - line.data()));
    if (!name.empty() && is_ows(name.back()))
    {
        // RFC 9112 5.1: whitespace before the colon has been used for request smuggling.
        why = "the field name " + quoted(name) + " has whitespace before the colon";
        return false;
    }
    if (!is_token(name))
    {
        why = "the field name " + quoted(name) + " is not a token";
        return false;
    }
    value = trim(line.substr(name.size() + 1));
    return true;
}

} // namespace

std::optional<content_range> parse_content_range(std::string_view value) noexcept
{
    std::size_t space = value.find(' ');
    if (space == std::string_view::npos || !iequals(value.substr(0, space), "bytes"))
        return std::nullopt;
    std::string_view rest = value.substr(space + 1);
    std::size_t slash = rest.find('/');
    if (slash == std::string_view::npos)
        return std::nullopt;
    std::string_view range = rest.substr(0, slash);
    std::string_view length = rest.substr(slash + 1);
    content_range parsed;
    if (length != "*")
    {
        parsed.complete_length = parse_decimal(length);
        if (!parsed.complete_length)
            return std::nullopt;
    }
    if (range == "*")
    {
        // unsatisfied-range: "*/" complete-length, never "*/*".
        if (!parsed.complete_length)
            return std::nullopt;
        parsed.satisfied = false;
        return parsed;
    }
    std::size_t dash = range.find('-');
    if (dash == std::string_view::npos)
        return std::nullopt;
    auto first = parse_decimal(range.substr(0, dash));
    auto last = parse_decimal(range.substr(dash + 1));
    if (!first || !last || *first > *last || (parsed.complete_length && *last >= *parsed.complete_length))
        return std::nullopt;
    parsed.first = *first;
    parsed.last = *last;
    return parsed;
}

body_head describe_body(const response_head& head)
{
    body_head described;
    described.status = head.status;
    content_length length;
    std::optional<std::string_view> range_field;
    bool several_ranges = false;
    for (header_field field : head.fields())
    {
        if (iequals(field.name, "content-length"))
            length.add_field(field.value);
        else if (iequals(field.name, "content-range"))
        {
            several_ranges = several_ranges || range_field.has_value();
            range_field = field.value;
        }
        else if (iequals(field.name, "content-encoding"))
            for_each_element(field.value, [&](std::string_view coding)
                             { described.encoded = described.encoded || !iequals(coding, "identity"); });
        else if (iequals(field.name, "accept-ranges"))
            for_each_element(field.value, [&](std::string_view unit)
                             { described.accepts_ranges = described.accepts_ranges || iequals(unit, "bytes"); });
    }
    described.etag = head.find("etag").value_or("");
    described.last_modified = head.find("last-modified").value_or("");

    // Only a 206 places its bytes, and only a 206 or a 416 sizes the whole by its Content-Range.
    bool ranged = head.status == 206 || head.status == 416;
    auto range = ranged && range_field && !several_ranges ? parse_content_range(*range_field) : std::nullopt;
    if (range && range->satisfied == (head.status == 206))
    {
        described.offset = range->satisfied ? range->first : 0;
        described.total_size = range->complete_length;
        if (range->satisfied)
            described.range_end = range->last + 1;
    }
    else if (!ranged && !described.encoded && length.present && length.problem.empty())
        described.total_size = length.value;
    return described;
}

// response_head

std::optional<std::string_view> response_head::find(std::string_view name) const noexcept
{
    for (std::size_t i = 0; i < spans_.size(); ++i)
    {
        header_field f = field(i);
        if (iequals(f.name, name))
            return f.value;
    }
    return std::nullopt;
}

void response_head::clear() noexcept
{
    status = 0;
    version = 11;
    text_.clear();
    spans_.clear();
    reason_size_ = 0;
}

void response_head::set_reason(std::string_view reason)
{
    text_.assign(reason.begin(), reason.end());
    spans_.clear();
    reason_size_ = reason.size();
}

void response_head::add_field(std::string_view name, std::string_view value)
{
    spans_.push_back({text_.size(), name.size(), value.size()});
    append(name);
    append(value);
}

void response_head::extend_last_value(std::string_view more)
{
    assert(!spans_.empty());
    if (more.empty())
        return;
    // The last field's value ends the text, so it can grow in place.
    span& last = spans_.back();
    if (last.value_size != 0)
    {
        text_.push_back(' ');
        ++last.value_size;
    }
    append(more);
    last.value_size += more.size();
}

void response_head::reserve(std::size_t text_size, std::size_t fields)
{
    text_.reserve(text_size);
    spans_.reserve(fields);
}

// response_parser

response_parser::response_parser(response_limits limits, body_sink& sink, bool head_request)
    : limits_(limits), sink_(&sink), head_request_(head_request)
{
}

void response_parser::fail(error_code code, std::string detail)
{
    error_ = code;
    error_detail_ = std::move(detail);
    state_ = state::failed;
}

response_parser::line_status response_parser::next_line(const char*& p, const char* end, std::size_t& used,
                                                        std::string_view& line)
{
    if (clear_line_)
    {
        line_.clear();
        clear_line_ = false;
    }
    // Invariant: used + line_.size() <= header_limit. The window is how many more bytes this line
    // may take, its LF included, so the limit is decided without buffering or scanning past it.
    std::size_t window = limits_.header_limit - used - line_.size();
    auto available = static_cast<std::size_t>(end - p);
    auto lf = static_cast<const char*>(std::memchr(p, '\n', std::min(available, window)));
    if (lf == nullptr)
    {
        if (available >= window)
            return line_status::too_long;
        line_.append(p, available);
        p = end;
        return line_status::more;
    }
    auto taken = static_cast<std::size_t>(lf - p);
    used += line_.size() + taken + 1;
    if (line_.empty())
        line = {p, taken};
    else
    {
        line_.append(p, taken);
        line = line_;
        clear_line_ = true;
    }
    p = lf + 1;
    // RFC 9112 2.2: LF alone ends a line too; a CR anywhere else is an error.
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    if (std::memchr(line.data(), '\r', line.size()) != nullptr)
        return line_status::bare_cr;
    return line_status::ready;
}

bool response_parser::on_start(const char* p, const char* end)
{
    // An HTTP/2-only server answers our HTTP/1.1 request with its connection preface, a SETTINGS
    // frame (3-byte length, type 0x04, flags, stream 0), or echoes the client preface. Nine bytes
    // tell, and waiting for a line end would wait for bytes that may never come.
    constexpr std::size_t needed = 9;
    char first[needed];
    std::size_t n = std::min(line_.size(), needed);
    std::memcpy(first, line_.data(), n);
    std::size_t more = std::min(needed - n, static_cast<std::size_t>(end - p));
    std::memcpy(first + n, p, more);
    n += more;

    std::string_view seen(first, n);
    constexpr std::string_view http = "HTTP/";
    constexpr std::string_view client_preface = "PRI * HTT";
    if (n >= http.size() && seen.substr(0, http.size()) == http)
    {
        start_checked_ = true;
        return true;
    }
    bool could_be_preface = seen == client_preface.substr(0, n);
    bool could_be_settings =
        (n <= 3 || first[3] == 0x04) &&
        std::all_of(first + std::min<std::size_t>(n, 5), first + n, [](char c) { return c == 0; });
    if (n == needed && (could_be_preface || could_be_settings))
    {
        fail(errc::http2_only, "the answer starts with HTTP/2 " +
                                   std::string(could_be_preface ? "connection preface" : "SETTINGS frame") +
                                   " bytes " + quoted(seen) + ", not an HTTP/1.x status line");
        return false;
    }
    bool could_be_http = seen == http.substr(0, n);
    if (n == needed || !(could_be_http || could_be_preface || could_be_settings))
        start_checked_ = true; // the status line check reports anything else
    return true;
}

void response_parser::on_status_line(std::string_view line)
{
    if (line.substr(0, 7) != "HTTP/1.")
    {
        if (line.substr(0, 5) == "HTTP/")
            return fail(errc::bad_http, "the status line " + quoted(line) + " is not HTTP/1.x (version " +
                                            quoted(line.substr(0, line.find(' '))) + ")");
        return fail(errc::bad_http, "the status line " + quoted(line) + " does not start with HTTP/1.");
    }
    // "HTTP/1.1 200", "HTTP/1.1 200 " and "HTTP/1.1 200 OK" are all fine (the reason is optional).
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (line.size() < 8 || !digit(line[7]) || (line.size() > 8 && line[8] != ' '))
        return fail(errc::bad_http, "the status line " + quoted(line) + " has an invalid HTTP version " +
                                        quoted(line.substr(0, line.find(' '))));
    if (line.size() < 12 || !digit(line[9]) || !digit(line[10]) || !digit(line[11]) ||
        (line.size() > 12 && line[12] != ' '))
        return fail(errc::bad_http, "the status line " + quoted(line) + " has no three-digit status code");
    unsigned status = static_cast<unsigned>((line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0'));
    if (status < 100)
        return fail(errc::bad_http, "the status line " + quoted(line) + " has a status below 100");
    if (has_nul(line))
        return fail(errc::bad_http, "the status line " + quoted(line) + " contains a NUL byte");

    if (!status_seen_)
        head_.reserve(1024, 16); // one allocation each for a typical head, kept across 1xx answers
    status_seen_ = true;
    head_.status = status;
    head_.version = line[7] == '0' ? 10 : 11;
    head_.set_reason(line.size() > 13 ? line.substr(13) : std::string_view{});
    state_ = state::field_line;
}

void response_parser::on_field_line(std::string_view line)
{
    if (line.empty())
        return on_head_end();
    std::string_view name;
    std::string_view value;
    std::string why;
    if (!split_field_line(line, name, value, why))
        return fail(errc::bad_http, std::move(why));
    if (name.empty())
    {
        // RFC 9112 5.2 lets a recipient join obs-fold lines with a space.
        if (head_.field_count() == 0)
            return fail(errc::bad_http,
                        "the line " + quoted(line) + " after the status line starts with whitespace");
        head_.extend_last_value(value);
        return;
    }
    head_.add_field(name, value);
}

void response_parser::on_head_end()
{
    unsigned status = head_.status;
    if (status < 200)
    {
        if (status == 101)
            return fail(errc::bad_http, "the server switched protocols (101 " + quoted(head_.reason()) +
                                            ") although fxrates never asks to upgrade");
        // An interim answer (100 Continue, 102, 103 Early Hints): its fields do not apply to the
        // final answer. It shares the head's header allowance with the answers after it, so that a
        // server sending 1xx answers for ever is stopped at the limit, not read until the timeout.
        ++interim_;
        head_.clear();
        state_ = state::status_line;
        return;
    }
    head_done_ = true;
    if (error_code code = sink_->begin(describe_body(head_)))
        return fail(code, "the body's destination refused it: " + code.message());

    bool transfer_encoding = false;
    bool chunked = false;
    std::string_view other_coding; // a transfer coding fxrates does not decode (gzip, compress...)
    content_length length;
    bool close = false;
    bool keep_alive_token = false;
    std::string_view coding;
    std::string coding_list; // only when several Content-Encoding fields came
    for (header_field field : head_.fields())
    {
        std::string_view name = field.name;
        std::string_view value = field.value;
        if (iequals(name, "content-length"))
            length.add_field(value);
        else if (iequals(name, "transfer-encoding"))
        {
            // Only the last coding matters for framing (RFC 9112 6.3): ignore transfer parameters.
            transfer_encoding = true;
            for_each_element(value,
                             [&](std::string_view element)
                             {
                                 auto coding_name = trim(element.substr(0, element.find(';')));
                                 chunked = iequals(coding_name, "chunked");
                                 if (!chunked && !iequals(coding_name, "identity") && other_coding.empty())
                                     other_coding = coding_name;
                             });
        }
        else if (iequals(name, "connection"))
        {
            for_each_element(value,
                             [&](std::string_view option)
                             {
                                 close = close || iequals(option, "close");
                                 keep_alive_token = keep_alive_token || iequals(option, "keep-alive");
                             });
        }
        else if (iequals(name, "content-encoding"))
        {
            // Several fields make one list (RFC 9110 5.3); the decoder refuses several codings.
            if (coding.data() == nullptr)
                coding = value;
            else
            {
                if (coding_list.empty())
                    coding_list = coding;
                coding_list.append(", ").append(value);
                coding = coding_list;
            }
        }
    }

    keep_alive_ = head_.version == 11 ? !close : keep_alive_token && !close;
    // RFC 9112 6.1 and 6.3: Transfer-Encoding in HTTP/1.0, or with Content-Length, means the framing
    // may be an attack or faulty; read this answer as the RFC says, but do not trust the connection.
    if (transfer_encoding && (head_.version == 10 || length.present))
        keep_alive_ = false;

    if (head_request_ || status == 204 || status == 304)
    {
        state_ = state::done;
        return;
    }
    // A body compressed as a transfer coding (`Transfer-Encoding: gzip, chunked`, rare, and never
    // asked for: fxrates sends no TE field) would otherwise reach the sink still compressed.
    if (!other_coding.empty())
        return fail(errc::bad_http, "the answer's body has the transfer coding " + quoted(other_coding) +
                                        ", which fxrates does not decode (it decodes a Content-Encoding)");
    if (!transfer_encoding && !length.problem.empty())
        return fail(errc::bad_http, std::move(length.problem));
    if (!transfer_encoding && length.present && length.value == 0)
    {
        // Nothing to decode, so an unknown coding does not matter.
        state_ = state::done;
        return;
    }

    decoder_ = content_decoder(coding, limits_.body_limit);
    if (error_code code = decoder_.error())
        return fail(code, decoder_.error_detail());

    if (transfer_encoding)
    {
        if (chunked)
            state_ = state::chunk_size;
        else
        {
            state_ = state::body_close;
            keep_alive_ = false;
        }
    }
    else if (length.present)
    {
        // Without a content coding the length is the decoded size, so a body too large can be
        // refused before it arrives; with one, only the decoded bytes tell.
        if (decoder_.passes_through() && length.value > limits_.body_limit)
            return fail(errc::body_limit, "the Content-Length " + std::to_string(length.value) +
                                              " is larger than the body limit of " +
                                              std::to_string(limits_.body_limit) + " bytes");
        remaining_ = length.value;
        state_ = state::body_length;
    }
    else
    {
        state_ = state::body_close;
        keep_alive_ = false;
    }
}

void response_parser::on_chunk_size(std::string_view line)
{
    std::uint64_t size = 0;
    std::size_t digits = 0;
    for (; digits < line.size(); ++digits)
    {
        int value = hex_digit(line[digits]);
        if (value < 0)
            break;
        if (size > std::numeric_limits<std::uint64_t>::max() >> 4)
            return fail(errc::bad_http, "chunk size " + quoted(line) + " is too large");
        size = size << 4 | static_cast<unsigned>(value);
    }
    std::string_view rest = line.substr(digits);
    while (!rest.empty() && is_ows(rest.front()))
        rest.remove_prefix(1);
    // Chunk extensions (";name=value") carry nothing we use; their bytes count against the limit.
    if (digits == 0 || (!rest.empty() && rest.front() != ';'))
        return fail(errc::bad_http, "chunk size " + quoted(line) + " is not hexadecimal");
    if (size == 0)
    {
        state_ = state::trailer_line;
        return;
    }
    if (decoder_.passes_through() && size > limits_.body_limit - body_bytes())
        return fail(errc::body_limit, "a chunk of " + std::to_string(size) +
                                          " bytes would pass the body limit of " +
                                          std::to_string(limits_.body_limit) + " bytes");
    remaining_ = size;
    state_ = state::chunk_data;
}

void response_parser::on_trailer_line(std::string_view line)
{
    if (line.empty())
        return finish_body();
    // Trailers are discarded, but checked: a malformed one means the framing is off.
    std::string_view name;
    std::string_view value;
    std::string why;
    if (!split_field_line(line, name, value, why))
        return fail(errc::bad_http, "in the trailers, " + why);
}

void response_parser::deliver(const char* p, std::size_t size)
{
    if (error_code code = decoder_.write({p, size}, *sink_))
        fail(code, decoder_.error_detail());
}

void response_parser::finish_body()
{
    if (error_code code = decoder_.finish())
        return fail(code, decoder_.error_detail());
    state_ = state::done;
}

std::size_t response_parser::feed(std::string_view data)
{
    if (data.empty() || state_ == state::done || state_ == state::failed)
        return 0;
    got_bytes_ = true;
    const char* const begin = data.data();
    const char* const end = begin + data.size();
    const char* p = begin;
    auto taken = [&] { return static_cast<std::size_t>(p - begin); };

    // Reads the next line of a line-based state; false means stop (more bytes needed, or failed).
    std::string_view line;
    auto read_line = [&](std::size_t& used)
    {
        switch (next_line(p, end, used, line))
        {
        case line_status::ready:
            return true;
        case line_status::more:
            return false;
        case line_status::bare_cr:
            fail(errc::bad_http, "the line " + quoted(line) + " contains a CR that does not end it");
            return false;
        case line_status::too_long:
            break;
        }
        std::string limit = std::to_string(limits_.header_limit);
        std::string start =
            line_ + std::string(p, std::min<std::size_t>(static_cast<std::size_t>(end - p), 80));
        if (state_ == state::status_line && !status_seen_ && start.compare(0, 5, "HTTP/") != 0)
            fail(errc::bad_http,
                 "the answer does not start with an HTTP/1.x status line: it starts " + quoted(start));
        else if (state_ == state::status_line || state_ == state::field_line)
            fail(errc::header_limit,
                 interim_ > 0 ? "the answer's " + std::to_string(interim_) +
                                    " interim (1xx) answer(s) and its head are larger than the header limit of " +
                                    limit + " bytes"
                              : "the answer's head is larger than the header limit of " + limit + " bytes");
        else
            fail(errc::header_limit,
                 "the answer's chunk-size lines and trailers are larger than the header limit of " + limit +
                     " bytes");
        return false;
    };

    while (p != end)
    {
        switch (state_)
        {
        case state::status_line:
            if (!start_checked_ && !on_start(p, end))
                return taken();
            if (!read_line(head_used_))
                return taken();
            on_status_line(line);
            break;
        case state::field_line:
            if (!read_line(head_used_))
                return taken();
            on_field_line(line);
            break;
        case state::body_length:
        case state::chunk_data:
        {
            auto size = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, end - p));
            deliver(p, size);
            p += size;
            remaining_ -= size;
            if (state_ == state::failed || remaining_ != 0)
                break;
            if (state_ == state::body_length)
                finish_body();
            else
                state_ = state::chunk_data_cr;
            break;
        }
        case state::body_close:
            deliver(p, static_cast<std::size_t>(end - p));
            p = end;
            break;
        case state::chunk_size:
        {
            auto before = meta_used_;
            if (!read_line(meta_used_))
                return taken();
            on_chunk_size(line);
            // A plain chunk-size line comes with at least one body byte, which the body limit
            // bounds: only extensions (and trailers) need the header limit, so that a body sent
            // in many small chunks is not refused.
            if (state_ == state::chunk_data && line.find(';') == std::string_view::npos)
                meta_used_ = before;
            break;
        }
        case state::chunk_data_cr:
        case state::chunk_data_lf:
        {
            char c = *p++;
            if (c == '\n')
                state_ = state::chunk_size;
            else if (c == '\r' && state_ == state::chunk_data_cr)
                state_ = state::chunk_data_lf;
            else
                fail(errc::bad_http,
                     "a chunk's data is followed by " + quoted({&c, 1}) + ", not a line ending");
            break;
        }
        case state::trailer_line:
            if (!read_line(meta_used_))
                return taken();
            on_trailer_line(line);
            break;
        case state::done:
        case state::failed:
            return taken();
        }
    }
    return taken();
}

void response_parser::feed_eof(bool clean)
{
    switch (state_)
    {
    case state::done:
    case state::failed:
        return;
    case state::body_close:
        if (!clean)
            return fail(errc::truncated_answer,
                        "the connection closed without TLS close_notify after " + std::to_string(body_bytes()) +
                            " bytes of a body that has no length and ends only when the connection "
                            "closes, so the body may be cut short");
        return finish_body();
    case state::status_line:
        if (!status_seen_)
            return fail(errc::bad_http, got_bytes_
                                            ? "the connection closed inside the status line, after " +
                                                  quoted(clear_line_ ? std::string() : line_)
                                            : std::string("the connection closed before any answer came"));
        return fail(errc::truncated_answer, "the connection closed after " + std::to_string(interim_) +
                                                " interim (1xx) answer(s), before the final answer");
    case state::field_line:
        return fail(errc::truncated_answer, "the connection closed inside the answer's head");
    case state::body_length:
        return fail(errc::truncated_answer, "the connection closed with " + std::to_string(remaining_) +
                                                " bytes of the body (by its Content-Length) still to come");
    case state::chunk_size:
    case state::chunk_data:
    case state::chunk_data_cr:
    case state::chunk_data_lf:
        return fail(errc::truncated_answer, "the connection closed inside the chunked body");
    case state::trailer_line:
        return fail(errc::truncated_answer, "the connection closed inside the trailers");
    }
}

} // namespace fxrates::detail
