#include "cli/fetch/json_fields.hpp"

#include <boost/json/parse.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace fxrates::cli::fetch;

namespace {

std::string fields(std::string_view body, const std::vector<std::string>& pointers)
{
    std::string line, why;
    bool ok = extract_fields(body, pointers, line, why);
    REQUIRE_MESSAGE(ok, why);
    CHECK(why.empty());
    return line;
}

std::string failure(std::string_view body, const std::vector<std::string>& pointers)
{
    std::string line = "stale", why;
    CHECK_FALSE(extract_fields(body, pointers, line, why));
    CHECK(line.empty());
    return why;
}

} // namespace

TEST_CASE("fields are looked up by JSON pointer and joined by tabs, strings raw and the rest as JSON")
{
    const std::string body =
        R"({"base":"EUR","date":"2024-01-02","rates":{"USD":1.085,"JPY":157},"n":-3,"big":1e300,)"
        R"("ok":true,"none":null,"list":[1,"a",{"b":2.5}],"results":[{"lat":47.37}]})";
    CHECK(fields(body, {"/base", "/rates/USD", "/rates/JPY"}) == "EUR\t1.085\t157");
    CHECK(fields(body, {"/n", "/big", "/ok", "/none"}) == "-3\t1e300\ttrue\tnull");
    CHECK(fields(body, {"/list", "/rates"}) == "[1,\"a\",{\"b\":2.5}]\t{\"USD\":1.085,\"JPY\":157}");
    CHECK(fields(body, {"/results/0/lat"}) == "47.37");
    CHECK(fields(R"([1,2])", {""}) == "[1,2]");
    CHECK(fields(body, {}) == "");
}

TEST_CASE("pointer escapes ~0 and ~1 reach keys holding ~ and /")
{
    CHECK(fields(R"({"a/b":1,"m~n":2,"":3})", {"/a~1b", "/m~0n", "/"}) == "1\t2\t3");
}

TEST_CASE("a string with tabs, newlines, controls or backslashes stays one unambiguous field")
{
    const std::string body = R"({"s":"a\tb\nc\r\u0001\\t\"q\"","bidi":"x\u202ey","c1":"\u0085"})";
    CHECK(fields(body, {"/s"}) == R"(a\tb\nc\r\x01\\t"q")");
    CHECK(fields(body, {"/bidi"}) == "x\\u202ey");
    CHECK(fields(body, {"/c1"}) == "\\u0085");
    std::string line = fields(body, {"/s", "/bidi", "/c1"});
    CHECK(line.find('\n') == std::string::npos);
    CHECK(std::count(line.begin(), line.end(), '\t') == 2);
}

TEST_CASE("objects and arrays stay valid JSON on one line, even with hostile strings inside")
{
    std::string line = fields(R"({"o":{"k\n":"v\t\u202e\u2028"}})", {"/o"});
    CHECK(line == R"({"k\n":"v\t\u202e\u2028"})");
    // DEL and the BOM are escaped as JSON escapes, so that the line stays JSON.
    std::string del = fields("{\"o\":[\"\x7f\xEF\xBB\xBF\"]}", {"/o"});
    CHECK(del == R"(["\u007f\ufeff"])");
    CHECK(boost::json::parse(del).at(0) == "\x7f\xEF\xBB\xBF");
    CHECK(boost::json::parse(line).at("k\n") == "v\t\xE2\x80\xAE\xE2\x80\xA8");
}

TEST_CASE("a missing field or an answer that is not JSON is refused with a clear reason")
{
    CHECK(failure(R"({"results":[]})", {"/results/0/lat"}) == "no field /results/0/lat in the answer");
    CHECK(failure(R"({"a":1})", {"/a", "/b"}) == "no field /b in the answer");
    CHECK(failure(R"({"a":[1]})", {"/a/x"}) == "no field /a/x in the answer");
    CHECK(failure(R"({"a":[1]})", {"/a/01"}) == "no field /a/01 in the answer");
    CHECK(failure(R"({"a":1})", {"/a/b"}) == "no field /a/b in the answer");
    CHECK(failure("<html>502 Bad Gateway</html>", {"/a"}).rfind("the answer is not JSON (", 0) == 0);
    CHECK(failure("", {"/a"}).rfind("the answer is not JSON (", 0) == 0);
    CHECK(failure(R"({"a":1} trailing)", {"/a"}).rfind("the answer is not JSON (", 0) == 0);
    CHECK(failure("{\"a\":\"\xFF\"}", {"/a"}).rfind("the answer is not JSON (", 0) == 0);
}

TEST_CASE("numbers are printed as the server wrote them, digit for digit, whatever a double would make of them")
{
    const std::string body = R"({"rate":1e400,"tiny":1e-400,"big":12345678901234567890123,"id":9007199254740993,)"
                             R"("price":1.10,"exp":2.5E+3,"neg":-0.0,"deep":{"b":[-1e999,7]}})";
    CHECK(fields(body, {"/rate", "/tiny", "/big", "/id"}) == "1e400\t1e-400\t12345678901234567890123\t9007199254740993");
    CHECK(fields(body, {"/price", "/exp", "/neg"}) == "1.10\t2.5E+3\t-0.0");
    CHECK(fields(body, {"/deep"}) == R"({"b":[-1e999,7]})");
}

TEST_CASE("a key given twice along a field's path is that item's error; elsewhere it does not matter")
{
    CHECK(failure(R"({"rate":1,"rate":2})", {"/rate"}) ==
          "the answer gives /rate twice (a repeated key): which value is meant cannot be told");
    CHECK(failure(R"({"a":{"b":1},"a":{"b":2}})", {"/a/b"}) ==
          "the answer gives /a twice (a repeated key): which value is meant cannot be told");
    CHECK(failure(R"({"a":{"b":1,"c":0,"b":2}})", {"/a/b"}) ==
          "the answer gives /a/b twice (a repeated key): which value is meant cannot be told");
    CHECK(fields(R"({"x":1,"x":2,"a":{"c":3,"c":4,"b":5}})", {"/a/b"}) == "5");
    CHECK(fields(R"({"list":[{"k":1},{"k":2}]})", {"/list/1/k", "/list/0/k"}) == "2\t1");
}

TEST_CASE("a string selected by one field is also whole in the others that hold it, in any order")
{
    CHECK(fields(R"({"a":["x","y"]})", {"/a/0", "/a"}) == "x\t[\"x\",\"y\"]");
    CHECK(fields(R"({"a":["x","y"]})", {"/a/1", "/a/1"}) == "y\ty");
    CHECK(fields(R"({"x":"s"})", {"/x", ""}) == "s\t{\"x\":\"s\"}");
}

TEST_CASE("a repeated key is named by the pointer as written, escaped")
{
    CHECK(failure(R"({"a/b":{"c":1},"a/b":{"c":2}})", {"/a~1b/c"}) ==
          "the answer gives /a~1b twice (a repeated key): which value is meant cannot be told");
    CHECK(failure(R"({"\u001b":1,"\u001b":2})", {"/\x1b"}) ==
          "the answer gives /\\x1b twice (a repeated key): which value is meant cannot be told");
}

TEST_CASE("overlapping fields each get their own value, and a field may select the whole answer")
{
    const std::string body = R"( {"r":{"USD":1.5,"s":"a\"b","e":{},"l":[]}} )";
    CHECK(fields(body, {"/r", "/r/USD", "", "/r/s", "/r/e", "/r/l"}) ==
          R"({"USD":1.5,"s":"a\"b","e":{},"l":[]})" "\t1.5\t"
          R"({"r":{"USD":1.5,"s":"a\"b","e":{},"l":[]}})" "\ta\"b\t{}\t[]");
}

TEST_CASE("a document nested deeper than the limit is refused, not parsed")
{
    std::string deep = std::string(max_json_depth, '[') + std::string(max_json_depth, ']');
    CHECK(fields(deep, {""}) == deep);
    std::string deeper = std::string(max_json_depth + 1, '[') + std::string(max_json_depth + 1, ']');
    CHECK(failure(deeper, {""}).rfind("the answer is not JSON (", 0) == 0);
    std::string hostile = std::string(100000, '[');
    CHECK(failure(hostile, {""}).rfind("the answer is not JSON (", 0) == 0);
}

TEST_CASE("a --field value must be a JSON pointer")
{
    CHECK_FALSE(check_pointer(""));
    CHECK_FALSE(check_pointer("/"));
    CHECK_FALSE(check_pointer("/rates/USD"));
    CHECK_FALSE(check_pointer("/a~0b~1c"));
    CHECK(check_pointer("rates/USD") ==
          "--field \"rates/USD\" is not a JSON pointer: it must start with '/' (/rates/USD)");
    CHECK(check_pointer("/a~2") ==
          "--field \"/a~2\" is not a JSON pointer: '~' must be followed by 0 (for ~) or "
          "1 (for /)");
    CHECK(check_pointer("/a~"));
}
