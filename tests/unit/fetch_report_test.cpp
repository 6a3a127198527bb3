#include "cli/fetch/report.hpp"

#include <fxrates/utf8.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <string>

using namespace fxrates::cli::fetch;
namespace json = boost::json;

namespace {

report_record succeeded()
{
    report_record record;
    record.index = 2;
    record.line = 5;
    record.url = "https://x/a";
    record.final_url = "https://x/b";
    record.status = 200;
    record.bytes = 3;
    record.sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    record.file = "a.json";
    record.content_type = "application/json";
    record.attempts = 1;
    record.connect_ms = 1.5;
    record.total_ms = 12.3456789;
    record.ok = true;
    return record;
}

} // namespace

TEST_CASE("a report line is one JSON object, schema first, with every field in a fixed order")
{
    CHECK(
        report_line(succeeded()) ==
        R"({"schema":"fxrates.fetch/1","index":2,"line":5,"url":"https://x/a","final_url":"https://x/b",)"
        R"("status":200,"bytes":3,"sha256":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",)"
        R"("file":"a.json","content_type":"application/json","attempts":1,"queued_ms":null,"connect_ms":1.500,)"
        R"("tls_ms":null,"first_byte_ms":null,"total_ms":12.346,"ok":true,"not_modified":false,"skipped":false,"resumed_from":0,"error":null})");
}

TEST_CASE("a failed item's report line has null for what is unknown and an error object")
{
    report_record record;
    record.index = 1;
    record.line = 1;
    record.url = "https://x/";
    record.attempts = 3;
    record.total_ms = std::nan("");
    record.error_category = "timeout";
    record.error_message = "The server did not answer within 10 seconds.";
    json::value value = json::parse(report_line(record));
    const json::object& object = value.as_object();
    CHECK(object.at("status").is_null());
    CHECK(object.at("final_url").is_null());
    CHECK(object.at("sha256").is_null());
    CHECK(object.at("file").is_null());
    CHECK(object.at("total_ms").is_null());
    CHECK(object.at("ok") == false);
    CHECK(object.at("attempts") == 3);
    CHECK(object.at("error").at("category") == "timeout");
    CHECK(object.at("error").at("message") == "The server did not answer within 10 seconds.");
    record.error_category.clear();
    CHECK(json::parse(report_line(record)).at("error").at("category") == "unknown");
}

TEST_CASE("untrusted text in a report line stays valid UTF-8 JSON on one line")
{
    report_record record = succeeded();
    record.final_url = "https://x/\xFF\xFE";
    record.content_type = "text/html\r\n\"x\": \xC0\xAF";
    record.ok = false;
    record.error_category = "http";
    record.error_message = "Server says: \"\x1b[31mbad\xE2\x80\xAE\n\"";
    std::string line = report_line(record);
    CHECK(line.find('\n') == std::string::npos);
    CHECK(line.find('\r') == std::string::npos);
    CHECK(line.find('\x1b') == std::string::npos);
    CHECK(fxrates::valid_utf8(line) == line);
    json::value value = json::parse(line);
    CHECK(value.at("final_url") == "https://x/\xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK(value.at("content_type") == "text/html\r\n\"x\": \xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK(value.at("error").at("message") == "Server says: \"\x1b[31mbad\xE2\x80\xAE\n\"");
}

TEST_CASE("sha256_hasher digests a stream in pieces as one, and starts over after a digest or reset")
{
    sha256_hasher hasher;
    CHECK(hasher.hex_digest() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    hasher.update("a");
    hasher.update("");
    hasher.update("bc");
    CHECK(hasher.hex_digest() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    hasher.update("abc");
    CHECK(hasher.hex_digest() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    hasher.update("garbage of a failed attempt");
    hasher.reset();
    hasher.update("abc");
    sha256_hasher moved = std::move(hasher);
    CHECK(moved.hex_digest() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("utf8_prefix_length cuts at a character boundary, keeping a whole character that ends at the cut")
{
    const std::string text = "ab\xC3\xA9" "cd"; // "abécd": é is two bytes, at 2 and 3
    CHECK(fxrates::utf8_prefix_length(text, 10) == text.size());
    CHECK(fxrates::utf8_prefix_length(text, 4) == 4); // "abé" whole
    CHECK(fxrates::utf8_prefix_length(text, 3) == 2); // not half of é
    CHECK(fxrates::utf8_prefix_length(text, 2) == 2);
    CHECK(fxrates::utf8_prefix_length("\xF0\x9F\x98\x80", 3) == 0); // a four-byte character, cut inside
    CHECK(fxrates::utf8_prefix_length("", 0) == 0);
}
