// What the look-alike server serves besides the API, over real TLS and over plain HTTP: files under
// --root (validators, 304, ranges, no way out of the root), the demo site and its PNG images,
// /bytes/N streamed, and the faults, rate limit, log and limits applied to them. Each test starts
// its own server on port 0.

#include <fxrates/server/local_server.hpp>

#include "server/pattern.hpp"

#include "support/https_probe.hpp"
#include "support/png_reader.hpp"
#include "support/process_memory.hpp"
#include "support/request_log.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/system/system_error.hpp>

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

using fxrates::fault;
using fxrates::local_server;
using fxrates::server_params;
using fxrates::test::http_reply;
using fxrates::test::plain_http;
using fxrates::test::raw_end;
using fxrates::test::tls_connection;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// A directory of its own for a test, removed at the end: a site with a text file, a subdirectory
// with an index, one without, a FIFO, and a link out of the root (to a secret file beside it).
class site_directory
{
public:
    site_directory()
    {
        std::string pattern = (fs::temp_directory_path() / "fxrates-static-XXXXXX").string();
        if (!mkdtemp(pattern.data()))
            throw std::runtime_error("mkdtemp failed");
        base_ = pattern;
        fs::create_directories(root() / "docs");
        fs::create_directories(root() / "empty");
        write(root() / "hello.txt", hello);
        write(root() / "docs" / "index.html", "<h1>docs</h1>\n");
        write(root() / "data.bin", std::string(100'000, 'x'));
        write(base_ / "secret.txt", "secret\n");
        fs::create_symlink(base_ / "secret.txt", root() / "link.txt");
        fs::create_directory_symlink(base_, root() / "outside");
        mkfifo((root() / "fifo.txt").c_str(), 0600);
    }
    ~site_directory()
    {
        std::error_code ignored;
        fs::remove_all(base_, ignored);
    }
    site_directory(const site_directory&) = delete;
    site_directory& operator=(const site_directory&) = delete;

    fs::path root() const { return base_ / "root"; }

    static constexpr std::string_view hello = "Hello, files!\n";

private:
    static void write(const fs::path& path, std::string_view text)
    {
        std::ofstream(path, std::ios::binary) << text;
    }

    fs::path base_;
};

server_params with_plain_port(std::string root = {})
{
    server_params params;
    params.plain_port = 0;
    params.root = std::move(root);
    return params;
}

// A connection to the server over TLS or over plain HTTP: the tests run over both.
std::unique_ptr<tls_connection> connect(const local_server& server, bool plain)
{
    if (plain)
        return std::make_unique<tls_connection>(plain_http, *server.plain_port());
    return std::make_unique<tls_connection>(server.port(), server.certificate_pem());
}

http_reply get(const local_server& server, bool plain, std::string_view target, std::string_view headers = {},
               std::string_view method = "GET")
{
    return connect(server, plain)->request(method, target, headers);
}

// Whether `bytes` are those of /bytes/N from `offset` on.
bool is_pattern(std::uint64_t offset, std::string_view bytes)
{
    std::string expected(bytes.size(), '\0');
    fxrates::detail::fill_pattern(offset, expected);
    return bytes == expected;
}

} // namespace

TEST_CASE("the plain port is listened on only when asked for, and answers plain HTTP/1.1 with keep-alive")
{
    local_server tls_only;
    CHECK_FALSE(tls_only.plain_port());
    CHECK(tls_only.plain_base_url().empty());

    local_server server(with_plain_port());
    REQUIRE(server.plain_port());
    CHECK(*server.plain_port() != 0);
    CHECK(*server.plain_port() != server.port());
    CHECK(server.plain_base_url() == "http://127.0.0.1:" + std::to_string(*server.plain_port()));
    tls_connection client(plain_http, *server.plain_port());
    for (int i = 0; i < 3; ++i)
    {
        auto reply = client.request("GET", "/rates?base=USD&date=2019-04-09&symbols=EUR");
        CHECK(reply.status == 200);
        CHECK(reply.keep_alive);
        CHECK(reply.body == R"({"date":"2019-04-09","base":"USD","rates":{"EUR":0.886761}})");
    }
}

TEST_CASE("files under the root are served with their type, length, ETag, Last-Modified and Accept-Ranges")
{
    site_directory site;
    local_server server(with_plain_port(site.root().string()));
    for (bool plain : {false, true})
    {
        CAPTURE(plain);
        auto reply = get(server, plain, "/hello.txt");
        CHECK(reply.status == 200);
        CHECK(reply.body == site_directory::hello);
        CHECK(reply.header("content-type") == "text/plain; charset=utf-8");
        CHECK(reply.header("content-length") == std::to_string(site_directory::hello.size()));
        CHECK(reply.header("accept-ranges") == "bytes");
        CHECK(reply.header("etag").starts_with("\""));
        CHECK(reply.header("last-modified").ends_with(" GMT"));

        auto head = get(server, plain, "/hello.txt", {}, "HEAD");
        CHECK(head.status == 200);
        CHECK(head.body.empty());
        CHECK(head.header("content-length") == reply.header("content-length"));
        CHECK(head.header("etag") == reply.header("etag"));

        auto index = get(server, plain, "/docs/");
        CHECK(index.status == 200);
        CHECK(index.body == "<h1>docs</h1>\n");
        CHECK(index.header("content-type") == "text/html; charset=utf-8");
        // A folder without its slash is moved to it (its page's relative links need it), the
        // query kept; a file with a slash is no folder.
        auto moved = get(server, plain, "/docs?x=1");
        CHECK(moved.status == 301);
        CHECK(moved.header("location") == "/docs/?x=1");
        CHECK(get(server, plain, "/hello.txt/").status == 404);
        CHECK(get(server, plain, "/hello.txt//").status == 404);
        CHECK(get(server, plain, "/empty/").status == 404);
        CHECK(get(server, plain, "/missing.txt").status == 404);
        CHECK(get(server, plain, "/hello.txt", {}, "POST").status == 405);

        // The API keeps its paths.
        CHECK(get(server, plain, "/currencies").status == 200);
        CHECK(get(server, plain, "/rates?base=USD").header("content-type") == "application/json");
    }
}

TEST_CASE("If-Match and If-Unmodified-Since that do not hold get 412; an HTTP/1.1 request without one Host gets 400")
{
    site_directory site;
    local_server server(with_plain_port(site.root().string()));
    for (bool plain : {false, true})
    {
        CAPTURE(plain);
        auto etag = get(server, plain, "/hello.txt").header("etag");
        REQUIRE_FALSE(etag.empty());
        CHECK(get(server, plain, "/hello.txt", "If-Match: \"other\"\r\n").status == 412);
        CHECK(get(server, plain, "/hello.txt", "If-Match: W/" + etag + "\r\n").status == 412);
        CHECK(get(server, plain, "/hello.txt", "If-Match: " + etag + "\r\n").body == site_directory::hello);
        CHECK(get(server, plain, "/hello.txt", "If-Unmodified-Since: Thu, 01 Jan 1970 00:00:01 GMT\r\n").status ==
              412);

        auto bare = connect(server, plain);
        bare->write_raw("GET /hello.txt HTTP/1.1\r\n\r\n");
        CHECK(bare->read_reply().status == 400);
        CHECK(connect(server, plain)->request("GET", "/hello.txt", "Host: other\r\n").status == 400);
        auto old = connect(server, plain);
        old->write_raw("GET /hello.txt HTTP/1.0\r\n\r\n");
        CHECK(old->read_reply().body == site_directory::hello); // HTTP/1.0 had no Host
    }
}

TEST_CASE("If-None-Match and If-Modified-Since get 304 with the validators, and If-None-Match wins")
{
    site_directory site;
    local_server server(with_plain_port(site.root().string()));
    for (bool plain : {false, true})
    {
        CAPTURE(plain);
        auto first = get(server, plain, "/hello.txt");
        auto etag = first.header("etag");
        auto modified = first.header("last-modified");

        auto by_tag = get(server, plain, "/hello.txt", "If-None-Match: " + etag + "\r\n");
        CHECK(by_tag.status == 304);
        CHECK(by_tag.body.empty());
        CHECK(by_tag.header("etag") == etag);
        CHECK(by_tag.header("last-modified") == modified);
        CHECK(get(server, plain, "/hello.txt", "If-None-Match: \"other\", W/" + etag + "\r\n").status == 304);
        CHECK(get(server, plain, "/hello.txt", "If-None-Match: \"other\"\r\n").status == 200);

        CHECK(get(server, plain, "/hello.txt", "If-Modified-Since: " + modified + "\r\n").status == 304);
        CHECK(
            get(server, plain, "/hello.txt", "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n").status ==
            200);
        // A non-matching If-None-Match decides alone: the If-Modified-Since that would give 304 is ignored.
        CHECK(get(server, plain, "/hello.txt",
                  "If-None-Match: \"other\"\r\nIf-Modified-Since: " + modified + "\r\n")
                  .status == 200);
    }
}

TEST_CASE(
    "a byte range gets 206 with Content-Range, one past the end 416, and a stale If-Range the whole file")
{
    site_directory site;
    local_server server(with_plain_port(site.root().string()));
    for (bool plain : {false, true})
    {
        CAPTURE(plain);
        auto size = std::to_string(site_directory::hello.size());
        auto part = get(server, plain, "/hello.txt", "Range: bytes=0-4\r\n");
        CHECK(part.status == 206);
        CHECK(part.body == "Hello");
        CHECK(part.header("content-range") == "bytes 0-4/" + size);
        CHECK(get(server, plain, "/hello.txt", "Range: bytes=7-\r\n").body == "files!\n");
        CHECK(get(server, plain, "/hello.txt", "Range: bytes=-3\r\n").body == "s!\n");

        auto beyond = get(server, plain, "/hello.txt", "Range: bytes=100-\r\n");
        CHECK(beyond.status == 416);
        CHECK(beyond.header("content-range") == "bytes */" + size);

        auto etag = part.header("etag");
        CHECK(get(server, plain, "/hello.txt", "Range: bytes=0-4\r\nIf-Range: " + etag + "\r\n").status ==
              206);
        auto stale = get(server, plain, "/hello.txt", "Range: bytes=0-4\r\nIf-Range: \"stale\"\r\n");
        CHECK(stale.status == 200);
        CHECK(stale.body == site_directory::hello);

        auto middle = get(server, plain, "/data.bin", "Range: bytes=50000-50009\r\n");
        CHECK(middle.status == 206);
        CHECK(middle.body == std::string(10, 'x'));
    }
}

TEST_CASE("paths that leave the root, by .., encoded dots or slashes, links or odd files, get 404")
{
    site_directory site;
    local_server server(with_plain_port(site.root().string()));
    for (bool plain : {false, true})
    {
        CAPTURE(plain);
        for (const char* target : {"/../secret.txt", "/docs/../../secret.txt", "/%2e%2e/secret.txt",
                                   "/%2E%2E/secret.txt", "/..%2fsecret.txt", "/docs%2f..%2f..%2fsecret.txt",
                                   "/.%2e/secret.txt", "/link.txt", "/outside/secret.txt", "/fifo.txt",
                                   "/hello.txt%00.png", "/..\\secret.txt"})
        {
            CAPTURE(target);
            auto reply = get(server, plain, target);
            CHECK(reply.status == 404);
            CHECK(reply.body.find("secret") == std::string::npos);
        }
        // An absolute URI is the API's business (404 there too), never a file.
        CHECK(get(server, plain, "http://localhost/hello.txt").status == 404);
    }
}

TEST_CASE(
    "a 64 MiB /bytes body streams whole and right over TLS and plain, and the server's memory stays small")
{
    local_server server(with_plain_port());
    auto before = fxrates::test::status_kib("VmRSS");
#ifdef FXRATES_SANITIZED
    // Under a sanitizer the bytes move ~10x slower: a smaller body checks the same streaming.
    constexpr std::uint64_t size = std::uint64_t{8} << 20;
#else
    constexpr std::uint64_t size = std::uint64_t{64} << 20;
#endif
    for (bool plain : {false, true})
    {
        CAPTURE(plain);
        auto client = connect(server, plain);
        client->write_raw("GET /bytes/" + std::to_string(size) + "?i=3 HTTP/1.1\r\nHost: localhost\r\n\r\n");
        std::uint64_t received = 0;
        bool right = true;
        auto reply = client->read_reply_in_pieces([&](std::string_view piece) {
            right = right && is_pattern(received, piece);
            received += piece.size();
        });
        CHECK(reply.status == 200);
        CHECK(reply.header("content-type") == "application/octet-stream");
        CHECK(reply.header("content-length") == std::to_string(size));
        CHECK(received == size);
        CHECK(right);
    }
    // Held whole, one body alone would be 64 MiB. A sanitizer's quarantine keeps freed memory, so
    // only the optimised build can tell.
#ifndef FXRATES_SANITIZED
    CHECK(fxrates::test::status_kib("VmHWM") - before < 24 * 1024);
#else
    (void)before;
#endif
}

TEST_CASE("/bytes/N ignores the query, serves ranges, 304 and HEAD, and refuses N above 16 GiB with 400")
{
    local_server server(with_plain_port());
    for (bool plain : {false, true})
    {
        CAPTURE(plain);
        auto reply = get(server, plain, "/bytes/1000?i=7");
        CHECK(reply.status == 200);
        CHECK(reply.body.size() == 1000);
        CHECK(is_pattern(0, reply.body));
        CHECK(get(server, plain, "/bytes/1000?i=8").body == reply.body);
        CHECK(reply.header("last-modified") == "Tue, 09 Apr 2019 00:00:00 GMT");

        auto part = get(server, plain, "/bytes/1000", "Range: bytes=990-\r\n");
        CHECK(part.status == 206);
        CHECK(part.body == reply.body.substr(990));
        CHECK(get(server, plain, "/bytes/1000", "If-None-Match: " + reply.header("etag") + "\r\n").status ==
              304);
        CHECK(get(server, plain, "/bytes/1000", "If-Modified-Since: Tue, 09 Apr 2019 00:00:00 GMT\r\n")
                  .status == 304);

        auto huge = get(server, plain, "/bytes/17179869184", {}, "HEAD");
        CHECK(huge.status == 200);
        CHECK(huge.header("content-length") == "17179869184");
        CHECK(get(server, plain, "/bytes/17179869185").status == 400);
        CHECK(get(server, plain, "/bytes/many").status == 400);
    }
}

TEST_CASE("the demo site links its pages, and its images are valid PNG files whose data inflates")
{
    local_server server(with_plain_port());
    auto index = get(server, false, "/site/");
    CHECK(index.status == 200);
    CHECK(index.header("content-type") == "text/html; charset=utf-8");
    CHECK(index.body.find("href=\"page-40.html\"") != std::string::npos);
    auto page = get(server, true, "/site/page-3.html");
    CHECK(page.status == 200);
    CHECK(page.body.find("<img src=\"img/image-") != std::string::npos);
    CHECK(get(server, true, "/site/page-3.html", "If-None-Match: " + page.header("etag") + "\r\n").status ==
          304);
    CHECK(get(server, false, "/site/page-99.html").status == 404);

    for (const char* image : {"/site/img/image-00.png", "/site/img/image-07.png", "/site/img/image-14.png"})
    {
        CAPTURE(image);
        auto reply = get(server, false, image);
        REQUIRE(reply.status == 200);
        CHECK(reply.header("content-type") == "image/png");
        auto chunks = fxrates::test::png_chunks(reply.body);
        REQUIRE(chunks.size() == 3);
        CHECK(chunks[0].type == "IHDR");
        CHECK(chunks[1].type == "IDAT");
        CHECK(chunks[2].type == "IEND");
        for (const auto& chunk : chunks)
            CHECK(chunk.crc_ok);
        auto width = fxrates::test::big_endian_u32(chunks[0].data, 0);
        auto height = fxrates::test::big_endian_u32(chunks[0].data, 4);
        auto rows = (1 + 3 * std::size_t{width}) * height;
        CHECK(fxrates::test::zlib_inflate(chunks[1].data, rows).size() == rows);
        // The same bytes again, from the cache, over the other transport.
        CHECK(get(server, true, image).body == reply.body);
    }
}

TEST_CASE("a mid-body reset and a short body cut a streamed body, over TLS and plain")
{
    for (auto kind : {fault::reset_mid_body, fault::short_body})
    {
        CAPTURE(fxrates::to_string(kind));
        auto params = with_plain_port();
        params.inject_fault = [kind](std::string_view) -> std::optional<fault> { return kind; };
        local_server server(params);
        for (bool plain : {false, true})
        {
            CAPTURE(plain);
            auto client = connect(server, plain);
            auto answer = client->request_raw("GET", "/bytes/1000000", {}, 4 << 20);
            auto body_at = answer.bytes.find("\r\n\r\n");
            REQUIRE(body_at != std::string::npos);
            CHECK(answer.bytes.starts_with("HTTP/1.1 200 OK\r\n"));
            CHECK(answer.bytes.find("Content-Length: 1000000\r\n") < body_at);
            auto body = std::string_view(answer.bytes).substr(body_at + 4);
            // Half the body came, if the reset did not discard some of it on the way.
            CHECK(body.size() <= 500'000);
            CHECK(is_pattern(0, body));
            if (kind == fault::reset_mid_body)
                CHECK(answer.end == raw_end::reset);
            else
                CHECK(answer.end == (plain ? raw_end::close_notify : raw_end::truncated));
        }
    }
}

TEST_CASE("the request log, latency and the rate limit apply to files and to the demo site")
{
    site_directory site;
    std::mutex mutex; // the log runs on the server's thread
    std::vector<std::string> lines;
    auto params = with_plain_port(site.root().string());
    params.log_request = [&](std::string_view line) {
        std::lock_guard lock(mutex);
        lines.emplace_back(line);
    };
    params.rate_limit = 0.001; // one request, then none for 1000 s
    params.burst = 1;
    params.latency = 50ms;
    local_server server(params);
    auto started = std::chrono::steady_clock::now();
    CHECK(get(server, true, "/hello.txt").status == 200);
    CHECK(std::chrono::steady_clock::now() - started >= 50ms);
    auto limited = get(server, true, "/hello.txt");
    CHECK(limited.status == 429);
    CHECK_FALSE(limited.header("retry-after").empty());
    std::lock_guard lock(mutex);
    CHECK(lines == std::vector<std::string>{"GET /hello.txt -> 200", "GET /hello.txt -> 429"});
}

TEST_CASE("the request log shows a request's Range, escaped like the target")
{
    fxrates::test::request_log log;
    auto params = with_plain_port();
    log.attach(params);
    local_server server(params);
    CHECK(get(server, true, "/bytes/1000", "Range: bytes=500-\r\n").status == 206);
    // A bidi override and a byte that is not UTF-8: the range does not parse (ignored), the log escapes it.
    CHECK(get(server, true, "/bytes/1000", "Range: bytes=\xe2\x80\xae" "0-1\xff\r\n").status == 200);
    CHECK(get(server, true, "/bytes/1000").status == 200);
    CHECK(log.take() == std::vector<std::string>{"GET /bytes/1000 range bytes=500- -> 206",
                                                 "GET /bytes/1000 range bytes=\\u202e0-1\\xff -> 200",
                                                 "GET /bytes/1000 -> 200"});
}

TEST_CASE("without range support (--no-ranges) Range and If-Range are ignored: the whole 200, no Accept-Ranges")
{
    site_directory site;
    auto with_root = with_plain_port(site.root().string());
    with_root.ranges = false;
    auto demo = with_plain_port();
    demo.ranges = false;
    for (auto [params, target] : {std::pair{with_root, "/hello.txt"}, std::pair{demo, "/bytes/1000"}})
    {
        CAPTURE(target);
        local_server server(params);
        auto whole = get(server, true, target);
        CHECK(whole.status == 200);
        CHECK(whole.header("accept-ranges").empty());
        auto asked = get(server, true, target, "Range: bytes=5-\r\nIf-Range: " + whole.header("etag") + "\r\n");
        CHECK(asked.status == 200);
        CHECK(asked.body == whole.body);
        CHECK(asked.header("content-range").empty());
        CHECK(asked.header("accept-ranges").empty());
        CHECK(get(server, true, target, "Range: bytes=100000-\r\n").status == 200); // no 416 either
        // Conditional requests still work: only ranges are gone.
        CHECK(get(server, true, target, "If-None-Match: " + whole.header("etag") + "\r\n").status == 304);
    }
}

TEST_CASE("plain connections have the TLS ones' limits: 431 for a huge header, and the request timeout")
{
    auto params = with_plain_port();
    params.request_timeout = 200ms;
    local_server server(params);

    tls_connection vandal(plain_http, *server.plain_port());
    std::string huge =
        "GET /site/ HTTP/1.1\r\nHost: localhost\r\nX-Big: " + std::string(64 * 1024, 'a') + "\r\n\r\n";
    try
    {
        vandal.write_raw(huge);
        CHECK(vandal.read_reply().status == 431);
        CHECK(vandal.wait_until_closed_by_server());
    }
    catch (const boost::system::system_error& e)
    {
        // Closed with our bytes unread: a reset while we were still writing or reading.
        CAPTURE(e.code().message());
        CHECK((e.code() == boost::asio::error::connection_reset ||
               e.code() == boost::asio::error::broken_pipe || e.code() == boost::asio::error::eof));
    }

    tls_connection slowpoke(plain_http, *server.plain_port());
    slowpoke.write_raw("GET /site/ HTTP/1.1\r\nHost: loc");
    CHECK(get(server, true, "/site/").status == 200);
    CHECK(slowpoke.wait_until_closed_by_server());
}
