#include "client/http/response_parser.hpp"

#include "support/deflate.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <memory>
#include <ranges>
#include <string>
#include <string_view>
#include <vector>

#include <zlib.h>

using fxrates::errc;
using fxrates::error_code;
using fxrates::detail::body_sink;
using fxrates::detail::describe_body;
using fxrates::detail::parse_content_range;
using fxrates::detail::header_field;
using fxrates::detail::response_head;
using fxrates::detail::response_limits;
using fxrates::detail::response_parser;
using fxrates::detail::string_sink;

static_assert(std::ranges::forward_range<response_head::field_range>);

namespace
{

// A parser with its sink, fed the way a connection would feed it.
struct parse_run
{
    string_sink sink;
    response_parser parser;
    std::size_t taken = 0; // bytes the parser took

    explicit parse_run(response_limits limits = {}, bool head_request = false)
        : parser(limits, sink, head_request)
    {
    }

    // Feeds `bytes` in pieces of `piece` bytes (all at once if 0) until the parser stops taking them.
    void feed(std::string_view bytes, std::size_t piece)
    {
        while (!bytes.empty())
        {
            std::string_view part = piece == 0 ? bytes : bytes.substr(0, piece);
            std::size_t took = parser.feed(part);
            CHECK(took <= part.size());
            taken += took;
            if (took < part.size())
                return;
            bytes.remove_prefix(took);
        }
    }
};

struct feeding
{
    response_limits limits{};
    bool head_request = false;
    bool eof = false; // the connection closes after the bytes
};

// Parses `answer` fed in one piece, byte by byte and in a few other splits, and runs `check` on each.
template <class Check> void each_split(std::string_view answer, const feeding& how, Check check)
{
    for (std::size_t piece :
         {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{5}, std::size_t{64}})
    {
        CAPTURE(piece);
        auto run = std::make_unique<parse_run>(how.limits, how.head_request);
        run->feed(answer, piece);
        if (how.eof)
            run->parser.feed_eof();
        check(*run);
    }
}

template <class Check> void each_split(std::string_view answer, Check check)
{
    each_split(answer, feeding{}, check);
}

// The answer parses completely, taking every byte.
void check_complete(const parse_run& run, std::string_view answer)
{
    INFO(run.parser.error_detail());
    CHECK_FALSE(run.parser.error());
    CHECK(run.parser.done());
    CHECK(run.taken == answer.size());
}

void check_fails(std::string_view answer, errc expected, std::string_view detail_part = {},
                 const feeding& how = {})
{
    each_split(answer, how,
               [&](const parse_run& run)
               {
                   INFO(run.parser.error_detail());
                   CHECK(run.parser.error() == expected);
                   CHECK_FALSE(run.parser.done());
                   CHECK(run.parser.error_detail().find(detail_part) != std::string::npos);
               });
}

std::string gzip(std::string_view data, std::size_t zeros = 0)
{
    return fxrates::test::compress(data, fxrates::test::gzip_bits, zeros);
}

std::string raw_deflate(std::string_view data)
{
    return fxrates::test::compress(data, fxrates::test::raw_bits);
}

const std::string typical_body = R"({"date":"2024-05-03","base":"EUR","rates":{"USD":1.0746,"JPY":164.21}})";

const std::string typical_answer = "HTTP/1.1 200 OK\r\n"
                                   "Date: Fri, 03 May 2024 14:00:00 GMT\r\n"
                                   "Content-Type: application/json\r\n"
                                   "Content-Length: " +
                                   std::to_string(typical_body.size()) +
                                   "\r\n"
                                   "Connection: keep-alive\r\n"
                                   "Server:   nginx  \r\n"
                                   "\r\n" +
                                   typical_body;

} // namespace

TEST_CASE("the parser gives a 200 answer's status, reason, fields and Content-Length body")
{
    each_split(typical_answer,
               [](const parse_run& run)
               {
                   check_complete(run, typical_answer);
                   const response_head& head = run.parser.head();
                   CHECK(run.parser.head_done());
                   CHECK(run.parser.got_bytes());
                   CHECK(head.status == 200);
                   CHECK(head.version == 11);
                   CHECK(head.reason() == "OK");
                   REQUIRE(head.field_count() == 5);
                   CHECK(head.field(0).name == "Date");
                   CHECK(head.field(0).value == "Fri, 03 May 2024 14:00:00 GMT");
                   CHECK(head.find("content-type") == "application/json");
                   CHECK(head.find("SERVER") == "nginx");
                   CHECK_FALSE(head.find("Location"));
                   CHECK(run.sink.body == typical_body);
                   CHECK(run.parser.body_bytes() == typical_body.size());
                   CHECK(run.parser.keep_alive());
                   CHECK(run.parser.interim_responses() == 0);
               });
}

TEST_CASE("the parser's head lists the fields in order and a copy of it stands on its own")
{
    parse_run run;
    run.feed(typical_answer, 0);
    std::vector<std::string> names;
    for (header_field field : run.parser.head().fields())
        names.emplace_back(field.name);
    CHECK(names ==
          std::vector<std::string>{"Date", "Content-Type", "Content-Length", "Connection", "Server"});

    response_head copy = run.parser.head();
    response_head moved = std::move(copy);
    copy.clear();
    CHECK(moved.find("Server") == "nginx");
    CHECK(moved.reason() == "OK");
    CHECK(moved.fields().size() == 5);
}

TEST_CASE("views into a parser's head survive moving the head, even for a tiny head")
{
    response_head head;
    head.set_reason("OK");
    head.add_field("A", "b");
    std::string_view value = *head.find("a");
    std::string_view reason = head.reason();
    response_head moved = std::move(head);
    CHECK(value == "b");
    CHECK(value.data() == moved.find("A")->data());
    CHECK(reason == "OK");
    moved.extend_last_value("c");
    CHECK(moved.find("A") == "b c");
}

TEST_CASE("a parser that has seen no bytes has nothing")
{
    string_sink sink;
    response_parser parser({}, sink);
    CHECK_FALSE(parser.got_bytes());
    CHECK_FALSE(parser.head_done());
    CHECK_FALSE(parser.done());
    CHECK_FALSE(parser.error());
    CHECK_FALSE(parser.keep_alive());
    CHECK(parser.feed("") == 0);
    CHECK_FALSE(parser.got_bytes());
}

TEST_CASE("the parser takes a status line without a reason phrase, with or without the space before it")
{
    for (std::string_view status_line : {"HTTP/1.1 200\r\n", "HTTP/1.1 200 \r\n"})
    {
        std::string answer = std::string(status_line) + "Content-Length: 2\r\n\r\nok";
        each_split(answer,
                   [&](const parse_run& run)
                   {
                       check_complete(run, answer);
                       CHECK(run.parser.head().status == 200);
                       CHECK(run.parser.head().reason().empty());
                       CHECK(run.sink.body == "ok");
                   });
    }
    std::string spaced = "HTTP/1.1 404 Not  Found \r\nContent-Length: 0\r\n\r\n";
    each_split(spaced,
               [&](const parse_run& run)
               {
                   check_complete(run, spaced);
                   CHECK(run.parser.head().reason() == "Not  Found ");
               });
}

TEST_CASE("the parser accepts LF-only line endings in the status line, fields, chunk lines and trailers")
{
    const std::string answer = "HTTP/1.1 200 OK\n"
                               "Content-Type: text/plain\n"
                               "Transfer-Encoding: chunked\n"
                               "\n"
                               "5;name=value\n"
                               "hello\n"
                               "6\r\n"
                               " world\n"
                               "0\n"
                               "Checksum: abc\n"
                               "\n";
    each_split(answer,
               [&](const parse_run& run)
               {
                   check_complete(run, answer);
                   CHECK(run.parser.head().find("Content-Type") == "text/plain");
                   CHECK(run.sink.body == "hello world");
               });
    const std::string plain = "HTTP/1.0 200 OK\nContent-Length: 3\n\nabc";
    each_split(plain,
               [&](const parse_run& run)
               {
                   check_complete(run, plain);
                   CHECK(run.sink.body == "abc");
               });
}

TEST_CASE("the parser refuses a CR that does not end a line")
{
    check_fails("HTTP/1.1 200 O\rK\r\nContent-Length: 0\r\n\r\n", errc::bad_http, "CR");
    check_fails("HTTP/1.1 200 OK\r\nX-A: b\rc\r\nContent-Length: 0\r\n\r\n", errc::bad_http, "CR");
    check_fails("HTTP/1.1 200 OK\r\nContent-Length: 0\r\r\n\r\n", errc::bad_http, "CR");
    check_fails("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\r\nhello\r\n0\r\n\r\n",
                errc::bad_http, "CR");
    check_fails("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\rX0\r\n\r\n", errc::bad_http,
                "not a line ending");
}

TEST_CASE("the parser reads HTTP/1.0 as version 10 and any other HTTP/1.x as 1.1")
{
    each_split("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
               [](const parse_run& run) { CHECK(run.parser.head().version == 10); });
    each_split("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
               [](const parse_run& run) { CHECK(run.parser.head().version == 11); });
    each_split("HTTP/1.7 200 OK\r\nContent-Length: 0\r\n\r\n",
               [](const parse_run& run)
               {
                   CHECK(run.parser.done());
                   CHECK(run.parser.head().version == 11);
               });
}

TEST_CASE("the parser refuses a status line that is not HTTP/1.x, quoting it")
{
    check_fails("FOO\r\n\r\n", errc::bad_http, "the status line 'FOO' does not start with HTTP/1.");
    check_fails("ICY 200 OK\r\n\r\n", errc::bad_http, "does not start with HTTP/1.");
    check_fails("HTTP/2 200\r\n\r\n", errc::bad_http, "is not HTTP/1.x (version 'HTTP/2')");
    check_fails("HTTP/2.0 200 OK\r\n\r\n", errc::bad_http, "'HTTP/2.0'");
    check_fails("HTTP/1. 200 OK\r\n\r\n", errc::bad_http, "invalid HTTP version");
    check_fails("HTTP/1.10 200 OK\r\n\r\n", errc::bad_http, "invalid HTTP version");
    check_fails("HTTP/1.1 20 OK\r\n\r\n", errc::bad_http, "three-digit status");
    check_fails("HTTP/1.1 2000 OK\r\n\r\n", errc::bad_http, "three-digit status");
    check_fails("HTTP/1.1  200 OK\r\n\r\n", errc::bad_http, "three-digit status");
    check_fails("HTTP/1.1 099 Low\r\n\r\n", errc::bad_http, "below 100");
    check_fails("HTTP/1.1\r\n\r\n", errc::bad_http, "three-digit status");
    check_fails(std::string("HTTP/1.1 200 O\0K\r\n\r\n", 20), errc::bad_http, "NUL");
    check_fails("\r\nHTTP/1.1 200 OK\r\n\r\n", errc::bad_http, "the status line ''");
}

TEST_CASE(
    "the parser reports an HTTP/2 server's SETTINGS frame as http2_only as soon as nine bytes are there")
{
    // length 18, type SETTINGS, no flags, stream 0, then three settings.
    const std::string settings("\x00\x00\x12\x04\x00\x00\x00\x00\x00"
                               "\x00\x03\x00\x00\x00\x64\x00\x04\x00\x01\x00\x00\x00\x05\x00\x00\x40\x00",
                               27);
    check_fails(settings, errc::http2_only, "SETTINGS");

    string_sink sink;
    response_parser parser({}, sink);
    parser.feed(settings.substr(0, 8));
    CHECK_FALSE(parser.error());
    parser.feed(settings.substr(8, 1));
    CHECK(parser.error() == errc::http2_only);

    check_fails("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", errc::http2_only, "preface");

    // Text that is neither waits for its line end and is reported as a bad status line.
    check_fails(std::string_view("\x00\x00\x12\x05 OK\r\n\r\n", 11), errc::bad_http,
                "does not start with HTTP/1.");
    check_fails("PRIVATE\r\n\r\n", errc::bad_http, "does not start with HTTP/1.");
}

TEST_CASE("the parser trims field values, and the head finds names case-insensitively")
{
    const std::string answer = "HTTP/1.1 200 OK\r\n"
                               "X-Empty:\r\n"
                               "x-tabs:\t a b \t\r\n"
                               "X-Colons: a:b: c\r\n"
                               "Content-Length: 0\r\n"
                               "X-Tabs: second\r\n"
                               "\r\n";
    each_split(answer,
               [&](const parse_run& run)
               {
                   check_complete(run, answer);
                   const response_head& head = run.parser.head();
                   CHECK(head.find("x-empty") == "");
                   CHECK(head.find("X-TABS") == "a b");
                   CHECK(head.field(1).name == "x-tabs");
                   CHECK(head.find("x-colons") == "a:b: c");
               });
}

TEST_CASE("the parser joins an obs-fold continuation line to its field's value with a space")
{
    const std::string answer = "HTTP/1.1 200 OK\r\n"
                               "X-Folded: first\r\n"
                               "   second \r\n"
                               "\tthird\r\n"
                               "X-Empty-Start:\r\n"
                               " later\r\n"
                               "Content-Length:\r\n"
                               " 2\r\n"
                               "\r\n"
                               "ok";
    each_split(answer,
               [&](const parse_run& run)
               {
                   check_complete(run, answer);
                   CHECK(run.parser.head().find("X-Folded") == "first second third");
                   CHECK(run.parser.head().find("X-Empty-Start") == "later");
                   CHECK(run.sink.body == "ok");
               });
    check_fails("HTTP/1.1 200 OK\r\n folded\r\nContent-Length: 0\r\n\r\n", errc::bad_http,
                "starts with whitespace");
}

TEST_CASE("the parser refuses a field line without a colon, with whitespace before it, or with a bad name")
{
    check_fails("HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n", errc::bad_http, "'NoColonHere' has no colon");
    check_fails("HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n", errc::bad_http,
                "whitespace before the colon");
    check_fails("HTTP/1.1 200 OK\r\nContent-Length\t: 0\r\n\r\n", errc::bad_http,
                "whitespace before the colon");
    check_fails("HTTP/1.1 200 OK\r\n: value\r\n\r\n", errc::bad_http, "is not a token");
    check_fails("HTTP/1.1 200 OK\r\nBad(Name): value\r\n\r\n", errc::bad_http, "'Bad(Name)' is not a token");
    check_fails(std::string("HTTP/1.1 200 OK\r\nX-A: b\0c\r\n\r\n", 30), errc::bad_http, "NUL");
}

TEST_CASE("the parser skips 1xx interim answers with their fields, and counts them")
{
    const std::string answer = "HTTP/1.1 100 Continue\r\n\r\n"
                               "HTTP/1.1 102 Processing\r\n\r\n"
                               "HTTP/1.1 103 Early Hints\r\n"
                               "Link: </style.css>; rel=preload; as=style\r\n"
                               "Content-Length: 999\r\n"
                               "\r\n"
                               "HTTP/1.1 200 OK\r\n"
                               "Content-Length: 2\r\n"
                               "\r\n"
                               "ok";
    each_split(answer,
               [&](const parse_run& run)
               {
                   check_complete(run, answer);
                   CHECK(run.parser.head().status == 200);
                   CHECK(run.parser.interim_responses() == 3);
                   CHECK_FALSE(run.parser.head().find("Link"));
                   CHECK(run.parser.head().field_count() == 1);
                   CHECK(run.sink.body == "ok");
               });
    const std::string early_hints = "HTTP/1.1 103 Early Hints\r\nLink: </a.js>; rel=preload\r\n\r\n"
                                    "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    each_split(early_hints,
               [&](const parse_run& run)
               {
                   check_complete(run, early_hints);
                   CHECK(run.parser.head().status == 200);
                   CHECK(run.parser.interim_responses() == 1);
               });

    // Until the final head is there, head_done() stays false.
    string_sink sink;
    response_parser parser({}, sink);
    parser.feed("HTTP/1.1 103 Early Hints\r\nLink: </a.js>\r\n\r\n");
    CHECK(parser.got_bytes());
    CHECK_FALSE(parser.head_done());
    CHECK(parser.interim_responses() == 1);
}

TEST_CASE("the parser refuses a 101 Switching Protocols answer: fxrates never asks to upgrade")
{
    check_fails("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
                errc::bad_http, "101");
}

TEST_CASE("the parser reads no body after HEAD, 204 or 304, whatever the framing fields say")
{
    const std::string after = "HTTP/1.1 200 OK\r\n\r\n"; // the next answer on the connection
    const std::string head_answer = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nContent-Encoding: br\r\n\r\n";
    each_split(head_answer + after, feeding{.head_request = true},
               [&](const parse_run& run)
               {
                   CHECK(run.parser.done());
                   CHECK_FALSE(run.parser.error());
                   CHECK(run.taken == head_answer.size());
                   CHECK(run.parser.keep_alive());
                   CHECK(run.sink.body.empty());
               });
    for (std::string status : {"204 No Content", "304 Not Modified"})
    {
        const std::string answer =
            "HTTP/1.1 " + status + "\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n";
        each_split(answer + after,
                   [&](const parse_run& run)
                   {
                       CHECK(run.parser.done());
                       CHECK(run.taken == answer.size());
                       CHECK(run.sink.body.empty());
                   });
    }
}

TEST_CASE(
    "the parser frames the body by chunks when Transfer-Encoding ends in chunked, overriding Content-Length")
{
    const std::string answer = "HTTP/1.1 200 OK\r\n"
                               "Content-Length: 3\r\n"
                               "Transfer-Encoding: identity, chunked\r\n"
                               "\r\n"
                               "4\r\nwiki\r\n5\r\npedia\r\n0\r\n\r\n";
    each_split(answer,
               [&](const parse_run& run)
               {
                   check_complete(run, answer);
                   CHECK(run.sink.body == "wikipedia");
                   // Both framing fields at once may be an attack: the connection is not reused.
                   CHECK_FALSE(run.parser.keep_alive());
               });
    const std::string split_fields = "HTTP/1.1 200 OK\r\n"
                                     "Transfer-Encoding: identity\r\n"
                                     "Transfer-Encoding: Chunked\r\n"
                                     "\r\n"
                                     "3\r\nabc\r\n0\r\n\r\n";
    each_split(split_fields,
               [&](const parse_run& run)
               {
                   check_complete(run, split_fields);
                   CHECK(run.sink.body == "abc");
                   CHECK(run.parser.keep_alive());
               });
    // An invalid Content-Length does not matter once Transfer-Encoding decides.
    const std::string ignored =
        "HTTP/1.1 200 OK\r\nContent-Length: nope\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    each_split(ignored, [&](const parse_run& run) { check_complete(run, ignored); });
}

TEST_CASE("the parser reads until the close when Transfer-Encoding does not end in chunked")
{
    const std::string answer = "HTTP/1.1 200 OK\r\n"
                               "Transfer-Encoding: chunked, identity\r\n"
                               "Content-Length: 2\r\n"
                               "\r\n"
                               "3\r\nabc\r\n0\r\n\r\n";
    each_split(answer, feeding{.eof = true},
               [&](const parse_run& run)
               {
                   check_complete(run, answer);
                   CHECK(run.sink.body == "3\r\nabc\r\n0\r\n\r\n");
                   CHECK_FALSE(run.parser.keep_alive());
               });
}

TEST_CASE("the parser accepts equal Content-Length values and refuses differing or invalid ones")
{
    for (std::string fields : {"Content-Length: 3, 3\r\n", "Content-Length: 3\r\nContent-Length: 3\r\n",
                               "Content-Length: 3,,3 ,\r\n", "Content-Length: 003\r\n"})
    {
        const std::string answer = "HTTP/1.1 200 OK\r\n" + fields + "\r\nabc";
        each_split(answer,
                   [&](const parse_run& run)
                   {
                       check_complete(run, answer);
                       CHECK(run.sink.body == "abc");
                   });
    }
    check_fails("HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\nabcd", errc::bad_http,
                "different Content-Length");
    check_fails("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", errc::bad_http,
                "(3 and 4)");
    for (std::string value : {"abc", "-1", "+3", "3 4", "0x10", "1.5", "99999999999999999999999"})
    {
        CAPTURE(value);
        check_fails("HTTP/1.1 200 OK\r\nContent-Length: " + value + "\r\n\r\n", errc::bad_http,
                    "is not a valid length");
    }
    check_fails("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", errc::bad_http, "is empty");
    // The largest 64-bit length parses, and is then too large for the body limit.
    check_fails("HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\n", errc::body_limit,
                "18446744073709551615");
}

TEST_CASE("the parser reads a body without Content-Length or Transfer-Encoding until the connection closes")
{
    const std::string answer =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this\r\n\r\nand this";
    each_split(answer, feeding{.eof = true},
               [&](const parse_run& run)
               {
                   check_complete(run, answer);
                   CHECK(run.sink.body == "all of this\r\n\r\nand this");
                   CHECK_FALSE(run.parser.keep_alive());
               });
    // Before the close it is not done.
    string_sink sink;
    response_parser parser({}, sink);
    CHECK(parser.feed(answer) == answer.size());
    CHECK(parser.head_done());
    CHECK_FALSE(parser.done());
    CHECK_FALSE(parser.keep_alive());
    parser.feed_eof();
    CHECK(parser.done());
    parser.feed_eof(); // a second close changes nothing
    CHECK(parser.done());
    CHECK_FALSE(parser.error());
}

TEST_CASE("a TLS close without close_notify cannot end a body that ends at the close: it may be cut short")
{
    const std::string answer = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nthe first half";
    string_sink sink;
    response_parser parser({}, sink);
    CHECK(parser.feed(answer) == answer.size());
    parser.feed_eof(false);
    CHECK_FALSE(parser.done());
    CHECK(parser.error() == errc::truncated_answer);
    CHECK(parser.error_detail().find("without TLS close_notify after 14 bytes") != std::string::npos);

    // A body with a length that is complete needs no close at all, clean or not.
    string_sink whole;
    response_parser framed({}, whole);
    const std::string sized = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody";
    CHECK(framed.feed(sized) == sized.size());
    CHECK(framed.done());
    framed.feed_eof(false);
    CHECK(framed.done());
    CHECK_FALSE(framed.error());
}

TEST_CASE("the parser joins a chunked body and ignores its extensions and trailers")
{
    const std::string answer = "HTTP/1.1 200 OK\r\n"
                               "Transfer-Encoding: chunked\r\n"
                               "\r\n"
                               "1a; ext=1; quoted=\"a;b\"\r\n"
                               "abcdefghijklmnopqrstuvwxyz\r\n"
                               "A \t;x\r\n"
                               "0123456789\r\n"
                               "00000\r\n"
                               "Expires: never\r\n"
                               "X-Folded: a\r\n"
                               " b\r\n"
                               "\r\n";
    each_split(answer,
               [&](const parse_run& run)
               {
                   check_complete(run, answer);
                   CHECK(run.sink.body == "abcdefghijklmnopqrstuvwxyz0123456789");
                   CHECK_FALSE(run.parser.head().find("Expires"));
                   CHECK(run.parser.keep_alive());
               });
}

TEST_CASE("the parser refuses malformed chunk framing, saying what was wrong")
{
    const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    check_fails(head + "zz\r\n", errc::bad_http, "chunk size 'zz' is not hexadecimal");
    check_fails(head + "\r\n", errc::bad_http, "chunk size '' is not hexadecimal");
    check_fails(head + "5 x\r\nhello\r\n0\r\n\r\n", errc::bad_http, "chunk size '5 x' is not hexadecimal");
    check_fails(head + "-5\r\n", errc::bad_http, "not hexadecimal");
    check_fails(head + "10000000000000000\r\n", errc::bad_http, "is too large");
    check_fails(head + "5\r\nhelloX\r\n0\r\n\r\n", errc::bad_http, "followed by 'X', not a line ending");
    check_fails(head + "5\r\nhello\r\r\n0\r\n\r\n", errc::bad_http, "followed by '\\x0d'");
    check_fails(head + "0\r\nno colon\r\n\r\n", errc::bad_http, "in the trailers");
    // The largest chunk size parses, and is then too large for the body limit.
    check_fails(head + "ffffffffffffffff\r\n", errc::body_limit, "chunk");
}

TEST_CASE("the parser's keep-alive follows the version and the Connection field")
{
    struct example
    {
        std::string version;
        std::string connection;
        bool keep_alive;
    };
    for (const example& e : {example{"1.1", "", true}, example{"1.1", "Connection: close\r\n", false},
                             example{"1.1", "Connection: Upgrade, CLOSE\r\n", false},
                             example{"1.1", "Connection: keep-alive\r\n", true}, example{"1.0", "", false},
                             example{"1.0", "Connection: Keep-Alive\r\n", true},
                             example{"1.0", "Connection: keep-alive, close\r\n", false}})
    {
        const std::string answer =
            "HTTP/" + e.version + " 200 OK\r\n" + e.connection + "Content-Length: 0\r\n\r\n";
        CAPTURE(answer);
        each_split(answer,
                   [&](const parse_run& run)
                   {
                       check_complete(run, answer);
                       CHECK(run.parser.keep_alive() == e.keep_alive);
                   });
    }
    // HTTP/1.0 with Transfer-Encoding is faulty framing (RFC 9112 6.1): read it, do not reuse.
    const std::string old =
        "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    each_split(old,
               [&](const parse_run& run)
               {
                   check_complete(run, old);
                   CHECK_FALSE(run.parser.keep_alive());
               });
}

TEST_CASE("the parser leaves bytes after the final answer to the caller")
{
    const std::string extra = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    const std::string chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    const std::string empty = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    for (const std::string* answer : {&typical_answer, &chunked, &empty})
    {
        const std::string bytes = *answer + extra;
        each_split(bytes,
                   [&](parse_run& run)
                   {
                       CHECK(run.parser.done());
                       CHECK(run.taken == answer->size());
                       CHECK(run.parser.feed(extra) == 0);
                   });
    }
}

TEST_CASE("the parser reports a body cut short by the connection closing as a truncated answer")
{
    check_fails("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", errc::truncated_answer, "7 bytes",
                feeding{.eof = true});
    check_fails("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", errc::truncated_answer,
                "chunked", feeding{.eof = true});
    check_fails("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r", errc::truncated_answer,
                "chunked", feeding{.eof = true});
    check_fails("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\r\n", errc::truncated_answer,
                "trailers", feeding{.eof = true});
    check_fails("HTTP/1.1 200 OK\r\nContent-Le", errc::truncated_answer, "head", feeding{.eof = true});
    check_fails("HTTP/1.1 100 Continue\r\n\r\n", errc::truncated_answer, "interim", feeding{.eof = true});
    // Without a status line it is not HTTP at all.
    check_fails("HTTP/1.1 20", errc::bad_http, "'HTTP/1.1 20'", feeding{.eof = true});
    check_fails("HTT", errc::bad_http, "status line", feeding{.eof = true});

    string_sink sink;
    response_parser parser({}, sink);
    parser.feed_eof();
    CHECK(parser.error() == errc::bad_http);
    CHECK_FALSE(parser.got_bytes());
    CHECK(parser.error_detail() == "the connection closed before any answer came");
}

TEST_CASE("the parser fails a head larger than the header limit as soon as it passes the limit")
{
    const response_limits small{.header_limit = 100, .body_limit = 1000};
    // Exactly at the limit passes: the head, its line endings and the empty line are 100 bytes.
    const std::string fill(100 - std::string_view("HTTP/1.1 200 OK\r\nX: \r\n\r\n").size(), 'a');
    const std::string at_limit = "HTTP/1.1 200 OK\r\nX: " + fill + "\r\n\r\n";
    REQUIRE(at_limit.size() == 100);
    each_split(at_limit, feeding{.limits = small, .eof = true},
               [&](const parse_run& run)
               {
                   check_complete(run, at_limit);
                   CHECK(run.parser.head().find("X") == fill);
               });
    check_fails("HTTP/1.1 200 OK\r\nX: " + fill + "a\r\n\r\n", errc::header_limit, "100 bytes",
                feeding{.limits = small});

    // A line that never ends fails once it passes the limit, without waiting for its end.
    string_sink sink;
    response_parser parser(small, sink);
    const std::string endless = "HTTP/1.1 200 OK\r\nX-Endless: " + std::string(200, 'a');
    parser.feed(endless.substr(0, 99));
    CHECK_FALSE(parser.error());
    parser.feed(endless.substr(99, 1));
    CHECK(parser.error() == errc::header_limit);

    // A status line that never ends, and is not HTTP, is reported as not HTTP.
    check_fails(std::string(300, 'x'), errc::bad_http, "does not start with an HTTP/1.x status line",
                feeding{.limits = small});
    check_fails("HTTP/1.1 200 " + std::string(300, 'x'), errc::header_limit, "head",
                feeding{.limits = small});
}

TEST_CASE("the parser takes a 12 KiB head with the default 64 KiB limit")
{
    std::string answer = "HTTP/1.1 200 OK\r\n";
    for (int i = 0; answer.size() < 12 * 1024; ++i)
        answer += "X-Field-" + std::to_string(i) + ": " + std::string(100, 'v') + "\r\n";
    answer += "Content-Length: 2\r\n\r\nok";
    each_split(answer,
               [&](const parse_run& run)
               {
                   check_complete(run, answer);
                   CHECK(run.parser.head().field_count() > 100);
                   CHECK(run.sink.body == "ok");
               });
}

TEST_CASE("1xx heads share the header allowance with the final head, so endless interim answers end at the limit")
{
    const response_limits small{.header_limit = 200, .body_limit = 1000};
    const std::string hint =
        "HTTP/1.1 103 Early Hints\r\nLink: </a-rather-long-name.js>; rel=preload\r\n\r\n";
    const std::string final_head =
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Pad: 0123456789012345678901\r\n\r\nok";
    REQUIRE(hint.size() + final_head.size() < 200);
    const std::string answer = hint + final_head;
    each_split(answer, feeding{.limits = small},
               [&](const parse_run& run)
               {
                   check_complete(run, answer);
                   CHECK(run.parser.interim_responses() == 1);
               });
    // Each hint fits on its own; together they pass the allowance (a server that sends them for
    // ever was read until the timeout, at full speed).
    REQUIRE(3 * hint.size() > 200);
    std::string endless;
    for (int k = 0; k < 50; ++k)
        endless += hint;
    check_fails(endless, errc::header_limit, "interim (1xx) answer(s) and its head are larger than the header limit",
                feeding{.limits = small});
}

TEST_CASE("a transfer coding other than chunked is refused, never passed on still compressed")
{
    check_fails("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                errc::bad_http, "the transfer coding 'gzip'");
    check_fails("HTTP/1.1 200 OK\r\nTransfer-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                errc::bad_http, "the transfer coding 'deflate'");
    const std::string identity = "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n";
    each_split(identity, {}, [&](const parse_run& run) { CHECK(run.sink.body == "ok"); });
}

TEST_CASE("the parser fails endless chunk extensions and endless trailers at the header limit")
{
    const response_limits small{.header_limit = 1024, .body_limit = 1 << 20};
    const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

    // One chunk line that never ends.
    std::string endless_extension = head + "1";
    while (endless_extension.size() < head.size() + 5000)
        endless_extension += ";name=value";
    check_fails(endless_extension, errc::header_limit, "chunk-size lines and trailers",
                feeding{.limits = small});

    // Many chunks whose extensions add up.
    std::string many = head;
    for (int i = 0; i < 100; ++i)
        many += "1;" + std::string(20, 'e') + "\r\nx\r\n";
    check_fails(many, errc::header_limit, "chunk-size lines and trailers", feeding{.limits = small});

    // Trailers that never end.
    std::string trailers = head + "3\r\nabc\r\n0\r\n";
    for (int i = 0; i < 200; ++i)
        trailers += "X-Trailer-" + std::to_string(i) + ": value\r\n";
    check_fails(trailers, errc::header_limit, "chunk-size lines and trailers", feeding{.limits = small});

    // Plain chunk-size lines come with body bytes, which the body limit bounds: a body of many
    // 1-byte chunks far past the header allowance is accepted.
    std::string tiny_chunks = head;
    for (int i = 0; i < 2000; ++i)
        tiny_chunks += "1\r\nx\r\n";
    tiny_chunks += "0\r\n\r\n";
    string_sink tiny_body;
    response_parser tiny(small, tiny_body);
    CHECK(tiny.feed(tiny_chunks) == tiny_chunks.size());
    CHECK(tiny.done());
    CHECK(tiny_body.body == std::string(2000, 'x'));

    // Chunk lines and trailers within the allowance are fine; the head's bytes do not count.
    std::string fine = head + "3;ext=1\r\nabc\r\n0\r\nX-Checksum: 1\r\n\r\n";
    each_split(fine, feeding{.limits = {.header_limit = 60, .body_limit = 100}},
               [&](const parse_run& run) { check_complete(run, fine); });
}

TEST_CASE("the parser fails a Content-Length above the body limit at once when there is no content coding")
{
    const response_limits limits{.header_limit = 1024, .body_limit = 100};
    string_sink sink;
    response_parser parser(limits, sink);
    parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n");
    CHECK(parser.error() == errc::body_limit);
    CHECK(parser.error_detail().find("Content-Length 101") != std::string::npos);

    // With a coding only the decoded size counts: 200 compressed bytes may decode to 100.
    std::string compressible(100, 'z');
    std::string gz = gzip(compressible);
    std::string padded_length =
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + std::to_string(gz.size()) +
        "\r\n\r\n" + gz;
    each_split(padded_length, feeding{.limits = {.header_limit = 1024, .body_limit = 100}},
               [&](const parse_run& run)
               {
                   check_complete(run, padded_length);
                   CHECK(run.sink.body == compressible);
               });
}

TEST_CASE("the parser lets the decoded body reach the body limit but not pass it")
{
    const response_limits limits{.header_limit = 1024, .body_limit = 10};
    const std::string exact = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
    each_split(exact, feeding{.limits = limits}, [&](const parse_run& run) { check_complete(run, exact); });
    check_fails("HTTP/1.1 200 OK\r\n\r\n0123456789a", errc::body_limit, "limit of 10 bytes",
                feeding{.limits = limits, .eof = true});
    check_fails("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n5\r\n", errc::body_limit,
                "", feeding{.limits = limits});
    check_fails("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n6\r\n", errc::body_limit,
                "", feeding{.limits = limits});
    const std::string chunked_exact =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n4\r\n6789\r\n0\r\n\r\n";
    each_split(chunked_exact, feeding{.limits = limits},
               [&](const parse_run& run)
               {
                   check_complete(run, chunked_exact);
                   CHECK(run.sink.body == "0123456789");
               });
}

TEST_CASE("the parser decodes gzip and deflate bodies as they arrive, whatever the framing")
{
    std::string text;
    for (int i = 0; i < 300; ++i)
        text += "\"EUR" + std::to_string(i) + "\":1." + std::to_string(i * 37) + ",";
    const std::string gz = gzip(text);
    const std::string raw = raw_deflate(text);

    const std::string by_length =
        "HTTP/1.1 200 OK\r\nContent-Encoding: GZIP\r\nContent-Length: " + std::to_string(gz.size()) +
        "\r\n\r\n" + gz;
    each_split(by_length,
               [&](const parse_run& run)
               {
                   check_complete(run, by_length);
                   CHECK(run.sink.body == text);
                   CHECK(run.parser.body_bytes() == text.size());
               });

    std::string chunked = "HTTP/1.1 200 OK\r\nContent-Encoding: x-gzip\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (std::size_t at = 0; at < gz.size(); at += 100)
    {
        std::string_view piece = std::string_view(gz).substr(at, 100);
        char size[8];
        std::snprintf(size, sizeof size, "%zx", piece.size());
        chunked += std::string(size) + "\r\n" + std::string(piece) + "\r\n";
    }
    chunked += "0\r\n\r\n";
    each_split(chunked,
               [&](const parse_run& run)
               {
                   check_complete(run, chunked);
                   CHECK(run.sink.body == text);
               });

    const std::string until_close = "HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\n\r\n" + raw;
    each_split(until_close, feeding{.eof = true},
               [&](const parse_run& run)
               {
                   check_complete(run, until_close);
                   CHECK(run.sink.body == text);
               });

    const std::string identity =
        "HTTP/1.1 200 OK\r\nContent-Encoding: identity\r\nContent-Length: 3\r\n\r\nabc";
    each_split(identity, [&](const parse_run& run) { CHECK(run.sink.body == "abc"); });
}

TEST_CASE("the parser stops a gzip bomb with body_limit at 1 MiB")
{
    static const std::string bomb = gzip({}, 64u << 20); // 64 MiB of zeros in about 64 KiB
    REQUIRE(bomb.size() < 100'000);
    const std::string answer =
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + std::to_string(bomb.size()) +
        "\r\n\r\n" + bomb;
    each_split(answer,
               [&](const parse_run& run)
               {
                   CHECK(run.parser.error() == errc::body_limit);
                   CHECK(run.sink.body.size() <= 1024 * 1024);
                   CHECK(run.parser.body_bytes() == run.sink.body.size());
               });
}

TEST_CASE("the parser fails a truncated gzip body even when its framing is complete")
{
    const std::string gz = gzip("some text that will be cut short, long enough to matter");
    const std::string cut = gz.substr(0, gz.size() - 5);
    check_fails("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + std::to_string(cut.size()) +
                    "\r\n\r\n" + cut,
                errc::bad_content_encoding, "cut short");
    check_fails("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n" + cut, errc::bad_content_encoding,
                "cut short", feeding{.eof = true});
    check_fails("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 9\r\n\r\nnot gzip!",
                errc::bad_content_encoding, "corrupt");
}

TEST_CASE("the parser refuses an unknown content coding, naming it")
{
    check_fails("HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 3\r\n\r\nabc",
                errc::bad_content_encoding, "'br'");
    check_fails("HTTP/1.1 200 OK\r\nContent-Encoding: zstd\r\nContent-Length: 3\r\n\r\nabc",
                errc::bad_content_encoding, "'zstd'");
    check_fails(
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Encoding: br\r\nContent-Length: 3\r\n\r\nabc",
        errc::bad_content_encoding, "'gzip, br'");
    // An empty body needs no decoding, so its coding does not matter.
    const std::string empty = "HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 0\r\n\r\n";
    each_split(empty, [&](const parse_run& run) { check_complete(run, empty); });
}

TEST_CASE("the parser stops the answer at an error from the sink")
{
    class refusing_sink final : public body_sink
    {
    public:
        error_code write(std::string_view) override { return make_error_code(errc::internal); }
    };
    refusing_sink sink;
    response_parser parser({}, sink);
    parser.feed(typical_answer);
    CHECK(parser.error() == errc::internal);
    CHECK(parser.head_done());
    CHECK_FALSE(parser.done());
    CHECK(parser.feed("more") == 0);
}

TEST_CASE("the sink hears of the final answer once, with its status, after any interim answers and before its body")
{
    class recording_sink final : public body_sink
    {
    public:
        std::vector<std::string> events;
        error_code begin(unsigned status) override
        {
            events.push_back("begin " + std::to_string(status));
            return {};
        }
        error_code write(std::string_view data) override
        {
            if (events.empty() || !events.back().starts_with("body "))
                events.emplace_back("body ");
            events.back().append(data);
            return {};
        }
    };
    recording_sink sink;
    response_parser parser({}, sink);
    parser.feed("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope");
    CHECK(parser.done());
    CHECK(sink.events == std::vector<std::string>{"begin 404", "body nope"});

    class refusing_sink final : public body_sink
    {
    public:
        error_code begin(unsigned) override { return make_error_code(errc::body_limit); }
        error_code write(std::string_view) override { return {}; }
    };
    refusing_sink refusing;
    response_parser refused({}, refusing);
    refused.feed(typical_answer);
    CHECK(refused.error() == errc::body_limit);
    CHECK_FALSE(refused.done());
}

TEST_CASE("the parser's errors are sticky: later bytes and closes change nothing")
{
    string_sink sink;
    response_parser parser({}, sink);
    CHECK(parser.feed("FOO\r\nHTTP/1.1 200 OK\r\n\r\n") <= 5);
    CHECK(parser.error() == errc::bad_http);
    const std::string detail = parser.error_detail();
    CHECK(parser.feed("HTTP/1.1 200 OK\r\n\r\n") == 0);
    parser.feed_eof();
    CHECK(parser.error() == errc::bad_http);
    CHECK(parser.error_detail() == detail);
    CHECK_FALSE(parser.done());
}

TEST_CASE("a Content-Range is parsed strictly: bytes FIRST-LAST/LENGTH, FIRST-LAST/*, or */LENGTH")
{
    auto range = parse_content_range("bytes 500-999/1000");
    REQUIRE(range);
    CHECK(range->satisfied);
    CHECK(range->first == 500);
    CHECK(range->last == 999);
    CHECK(range->complete_length == 1000u);

    range = parse_content_range("BYTES 0-0/*");
    REQUIRE(range);
    CHECK(range->first == 0);
    CHECK(range->last == 0);
    CHECK_FALSE(range->complete_length);

    range = parse_content_range("bytes */1000");
    REQUIRE(range);
    CHECK_FALSE(range->satisfied);
    CHECK(range->complete_length == 1000u);

    range = parse_content_range("bytes 0-18446744073709551614/18446744073709551615");
    REQUIRE(range);
    CHECK(range->last == 18446744073709551614u);
}

TEST_CASE("a hostile or malformed Content-Range parses as nothing")
{
    using namespace std::string_view_literals;
    for (std::string_view value : std::initializer_list<std::string_view>{
             "", "bytes", "bytes ", "bytes 0-9", "bytes 0-9/", "bytes -9/10", "bytes 0-/10", "bytes 9-0/10",
             "bytes 0-10/10",                      // the last byte is past the end
             "bytes */*", "bytes *-9/10", "bytes */",
             "bytes  0-9/10", "bytes 0 -9/10", "bytes 0- 9/10", "bytes 0-9 /10", "bytes 0-9/10 ", " bytes 0-9/10",
             "bytes\t0-9/10", "bytes +0-9/10", "bytes 0-+9/10", "bytes 0x0-9/10", "bytes -0-9/10",
             "bytes 0-9/10, 20-29/30", "bytes 0-9/10/11", "bytes 0-9-10/11",
             "items 0-9/10", "bytesx 0-9/10", "bytes=0-9/10",
             "bytes 0-18446744073709551616/*",    // 2^64: does not fit
             "bytes 99999999999999999999999-1/*", "bytes 0-1/99999999999999999999999",
             "bytes 0-9/1\0"sv})
    {
        CAPTURE(value);
        CHECK_FALSE(parse_content_range(value));
    }
    // Long runs of digits are refused without running over.
    CHECK_FALSE(parse_content_range("bytes 0-1/" + std::string(100000, '9')));
}

TEST_CASE("a head tells the sink where its body goes, how large the whole is, its validators and coding")
{
    auto head_of = [](std::string_view text) {
        string_sink sink;
        response_parser parser({}, sink, true);
        parser.feed(text);
        REQUIRE(parser.done());
        return describe_body(parser.head());
    };
    auto partial = head_of("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 500-999/1000\r\n"
                           "ETag: \"v1\"\r\nLast-Modified: Tue, 09 Apr 2019 00:00:00 GMT\r\n"
                           "Accept-Ranges: none, bytes\r\nContent-Length: 500\r\n\r\n");
    CHECK(partial.status == 206);
    CHECK(partial.offset == 500);
    CHECK(partial.total_size == 1000u);
    CHECK(partial.etag == "\"v1\"");
    CHECK(partial.last_modified == "Tue, 09 Apr 2019 00:00:00 GMT");
    CHECK(partial.accepts_ranges);
    CHECK_FALSE(partial.encoded);

    auto whole = head_of("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Encoding: identity\r\n"
                         "Content-Range: bytes 500-999/1000\r\n\r\n");
    CHECK(whole.offset == 0); // only a 206 places its bytes
    CHECK(whole.total_size == 1000u);
    CHECK_FALSE(whole.encoded);
    CHECK_FALSE(whole.accepts_ranges);
    CHECK(whole.etag.empty());

    auto encoded = head_of("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nContent-Encoding: gzip\r\n\r\n");
    CHECK(encoded.encoded);
    CHECK_FALSE(encoded.total_size); // the decoded size is not known

    auto unusable = head_of("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 5-9/10\r\n"
                            "Content-Range: bytes 0-4/10\r\nContent-Length: 5\r\n\r\n");
    CHECK(unusable.offset == 0); // two Content-Ranges: neither is trusted
    CHECK_FALSE(unusable.total_size);

    auto unsatisfiable = head_of("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */10\r\n"
                                 "Content-Length: 0\r\n\r\n");
    CHECK(unsatisfiable.offset == 0);
    CHECK(unsatisfiable.total_size == 10u);

    auto wrong_form = head_of("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes */10\r\n\r\n");
    CHECK(wrong_form.offset == 0);
    CHECK_FALSE(wrong_form.total_size);
}

TEST_CASE("the sink's begin gets the head's facts, and a sink written for begin(status) still gets the status")
{
    class head_sink final : public body_sink
    {
    public:
        using body_sink::begin;
        std::vector<fxrates::body_head> heads;
        error_code begin(const fxrates::body_head& head) override
        {
            heads.push_back(head);
            return {};
        }
        error_code write(std::string_view) override { return {}; }
    };
    head_sink sink;
    response_parser parser({}, sink);
    parser.feed("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 3-5/6\r\nContent-Length: 3\r\n\r\ndef");
    CHECK(parser.done());
    REQUIRE(sink.heads.size() == 1);
    CHECK(sink.heads[0].offset == 3);
    CHECK(sink.heads[0].total_size == 6u);

    string_sink old_style; // overrides begin(unsigned) only
    old_style.body = "voided";
    response_parser old_parser({}, old_style);
    old_parser.feed("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 3-5/6\r\nContent-Length: 3\r\n\r\ndef");
    CHECK(old_parser.done());
    CHECK(old_style.body == "def");
}
