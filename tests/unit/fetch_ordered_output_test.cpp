#include "cli/fetch/ordered_output.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <stdlib.h>
#include <unistd.h>

using namespace fxrates::cli::fetch;

namespace {

// Collects what the ordered output writes, one string per writer call, and can fail from a given call on.
struct fake_stdout
{
    std::vector<std::string> calls;
    std::size_t fail_from = static_cast<std::size_t>(-1);

    output_writer writer()
    {
        return [this](std::string_view data) -> fxrates::error_code
        {
            if (calls.size() >= fail_from)
                return make_error_code(boost::system::errc::broken_pipe);
            calls.emplace_back(data);
            return {};
        };
    }

    std::string all() const
    {
        std::string out;
        for (const auto& call : calls)
            out += call;
        return out;
    }
};

} // namespace

TEST_CASE("items finishing out of order are written in input order")
{
    fake_stdout out;
    ordered_output ordered(out.writer(), 1024);
    CHECK_FALSE(ordered.write(2, "two;").failed());
    CHECK_FALSE(ordered.finish(2, true).failed());
    CHECK_FALSE(ordered.write(1, "one;").failed());
    CHECK_FALSE(ordered.finish(1, true).failed());
    CHECK(out.all().empty());
    CHECK(ordered.held_bytes() == 8);
    CHECK_FALSE(ordered.write(0, "zero;").failed());
    CHECK(out.all() == "zero;");
    CHECK_FALSE(ordered.finish(0, true).failed());
    CHECK(out.all() == "zero;one;two;");
    CHECK(ordered.held_bytes() == 0);
    CHECK(ordered.head() == 3);
}

TEST_CASE("the head item streams straight to the writer, piece by piece, without being held")
{
    fake_stdout out;
    ordered_output ordered(out.writer(), 0);
    CHECK_FALSE(ordered.write(0, "a").failed());
    CHECK_FALSE(ordered.write(0, "b").failed());
    CHECK(out.calls == std::vector<std::string>{"a", "b"});
    CHECK(ordered.held_bytes() == 0);
    CHECK(ordered.spilled_bytes() == 0);
}

TEST_CASE("interleaved writes of three items come out whole and in order, never interleaved")
{
    fake_stdout out;
    ordered_output ordered(out.writer(), 1024);
    for (int round = 0; round < 3; ++round)
        for (std::size_t index : {2u, 0u, 1u})
            CHECK_FALSE(ordered.write(index, std::string(1, static_cast<char>('a' + index))).failed());
    CHECK(out.all() == "aaa");
    CHECK_FALSE(ordered.finish(1, true).failed());
    CHECK_FALSE(ordered.write(2, "c").failed());
    CHECK_FALSE(ordered.finish(0, true).failed());
    // Item 1 was done and is written; item 2 is now the head: its held bytes, then its stream.
    CHECK(out.all() == "aaabbbcccc");
    CHECK_FALSE(ordered.write(2, "C").failed());
    CHECK(out.all() == "aaabbbccccC");
    CHECK_FALSE(ordered.finish(2, true).failed());
    CHECK(ordered.head() == 3);
}

TEST_CASE("items past the memory bound are spilled to a file and come back in order")
{
    fake_stdout out;
    char scratch[] = "/tmp/fxrates-spill-test-XXXXXX";
    REQUIRE(::mkdtemp(scratch) != nullptr);
    {
        ordered_output ordered(out.writer(), 4, scratch);
        CHECK_FALSE(ordered.write(1, "abc").failed());
        CHECK(ordered.held_bytes() == 3);
        CHECK_FALSE(ordered.write(1, "defgh").failed()); // past the bound: this and later bytes spill
        CHECK(ordered.held_bytes() == 3);
        CHECK(ordered.spilled_bytes() == 5);
        CHECK_FALSE(ordered.write(1, "i").failed()); // would fit in memory, but must follow the spilled bytes
        CHECK(ordered.spilled_bytes() == 6);
        CHECK_FALSE(ordered.write(2, "x").failed());
        CHECK(ordered.held_bytes() == 4);
        CHECK_FALSE(ordered.write(2, std::string(100000, 'y')).failed());
        CHECK_FALSE(ordered.finish(2, true).failed());
        CHECK_FALSE(ordered.finish(1, true).failed());
        CHECK_FALSE(ordered.finish(0, true).failed());
        CHECK(out.all() == "abcdefghix" + std::string(100000, 'y'));
        CHECK(ordered.held_bytes() == 0);
        CHECK(ordered.spilled_bytes() == 0);
    }
    CHECK(::rmdir(scratch) == 0); // the spill files were anonymous: nothing is left in the folder
}

TEST_CASE("a body that cannot be held (no spill file) fails that item alone, naming the folder; the others come out")
{
    for (bool whole : {false, true})
    {
        CAPTURE(whole);
        fake_stdout out;
        ordered_output ordered(out.writer(), 3, "/nonexistent/fxrates-spill", whole, true);
        CHECK_FALSE(ordered.write(2, "ok").failed()); // fits in memory, with room for one more byte
        CHECK_FALSE(ordered.finish(2, true).failed());
        auto status = ordered.write(1, "abc"); // past the memory bound
        REQUIRE(status.failed());
        CHECK_FALSE(status.code); // the output is not broken
        CHECK(status.message.find("/nonexistent/fxrates-spill") != std::string::npos);
        CHECK(ordered.write(1, "more").message == status.message);
        CHECK_FALSE(ordered.write(0, "x").failed());
        CHECK_FALSE(ordered.finish(0, true).failed());
        CHECK(ordered.head() == 1); // waits for item 1 to end
        CHECK(ordered.finish(1, true).message == status.message); // so that the caller fails it
        CHECK(out.all() == "xok");
        CHECK(ordered.head() == 3);
        CHECK(ordered.held_bytes() == 0);
    }
}

TEST_CASE("without items_fail_alone, a line that cannot be held breaks the output: line N stays item N's or none")
{
    fake_stdout out;
    ordered_output ordered(out.writer(), 2, "/nonexistent/fxrates-spill", true);
    CHECK_FALSE(ordered.write(2, "ok").failed());
    auto status = ordered.write(1, "abc");
    REQUIRE(status.failed());
    CHECK(status.code == std::errc::no_such_file_or_directory);
    CHECK(status.message.find("/nonexistent/fxrates-spill") != std::string::npos);
    CHECK(ordered.finish(0, true).code == status.code); // every call after it says the same
    CHECK(out.all().empty());
}

TEST_CASE("an item that could not be held may start over, and one that failed anyway says nothing more")
{
    fake_stdout out;
    ordered_output ordered(out.writer(), 2, "/nonexistent/fxrates-spill", true, true);
    CHECK(ordered.write(1, "abc").failed());
    CHECK_FALSE(ordered.begin(1).failed()); // a retry
    CHECK_FALSE(ordered.write(1, "ab").failed());
    CHECK(ordered.write(2, "cde").failed());
    CHECK_FALSE(ordered.finish(2, false).failed());
    CHECK_FALSE(ordered.finish(1, true).failed());
    CHECK_FALSE(ordered.finish(0, true).failed());
    CHECK(out.all() == "ab");
    CHECK(ordered.head() == 3);
}

TEST_CASE("a failed item contributes nothing, held or spilled")
{
    fake_stdout out;
    ordered_output ordered(out.writer(), 2, default_spill_dir());
    CHECK_FALSE(ordered.write(1, "no").failed());
    CHECK_FALSE(ordered.write(1, "pe").failed());
    CHECK_FALSE(ordered.finish(1, false).failed());
    CHECK(ordered.held_bytes() == 0);
    CHECK(ordered.spilled_bytes() == 0);
    CHECK_FALSE(ordered.finish(2, false).failed());
    CHECK_FALSE(ordered.write(3, "three").failed());
    CHECK_FALSE(ordered.finish(0, false).failed());
    CHECK(out.all() == "three");
    CHECK(ordered.head() == 3);
}

TEST_CASE("begin() drops what a waiting item held, but refuses once bytes of the head were written")
{
    fake_stdout out;
    ordered_output ordered(out.writer(), 1024);
    CHECK_FALSE(ordered.write(1, "partial").failed());
    CHECK_FALSE(ordered.begin(1).failed());
    CHECK(ordered.held_bytes() == 0);
    CHECK_FALSE(ordered.write(1, "retry").failed());

    CHECK_FALSE(ordered.begin(0).failed()); // nothing written yet: fine
    CHECK_FALSE(ordered.write(0, "head").failed());
    auto status = ordered.begin(0);
    CHECK(status.failed());
    CHECK_FALSE(status.code);
    CHECK(status.message == "item 0 cannot start over: 4 bytes already written to stdout");
    CHECK_FALSE(ordered.finish(0, true).failed());
    CHECK(out.all() == "headretry");
    // Item 1 became the head and its held bytes were written: it cannot start over either.
    CHECK(ordered.begin(1).message == "item 1 cannot start over: 5 bytes already written to stdout");
}

TEST_CASE("an item that became the head with nothing held can still start over")
{
    fake_stdout out;
    ordered_output ordered(out.writer(), 1024);
    CHECK_FALSE(ordered.begin(1).failed());
    CHECK_FALSE(ordered.finish(0, true).failed());
    CHECK_FALSE(ordered.begin(1).failed());
}

TEST_CASE("writing to an item already finished or written out is refused without breaking the output")
{
    fake_stdout out;
    ordered_output ordered(out.writer(), 1024);
    CHECK_FALSE(ordered.finish(1, true).failed());
    CHECK(ordered.write(1, "late").message == "item 1 has already finished");
    CHECK(ordered.finish(1, true).message == "item 1 has already finished");
    CHECK(ordered.begin(1).message == "item 1 has already finished");
    CHECK_FALSE(ordered.finish(0, true).failed());
    CHECK(ordered.write(0, "late").message == "item 0 has already been written out");
    CHECK_FALSE(ordered.write(2, "ok").failed());
    CHECK(out.all() == "ok");
}

TEST_CASE("a writer error is returned and then returned by every later call")
{
    fake_stdout out;
    out.fail_from = 1;
    ordered_output ordered(out.writer(), 1024);
    CHECK_FALSE(ordered.write(1, "later").failed());
    CHECK_FALSE(ordered.write(0, "first").failed());
    auto status = ordered.finish(0, true); // writing item 1 out hits the error
    REQUIRE(status.failed());
    CHECK(status.code == boost::system::errc::broken_pipe);
    CHECK(status.message.rfind("writing the output failed: ", 0) == 0);
    CHECK(ordered.write(2, "x").code == boost::system::errc::broken_pipe);
    CHECK(ordered.begin(3).failed());
    CHECK(ordered.finish(2, true).failed());
    CHECK(out.all() == "first");
}

TEST_CASE("with whole items, the head is held too: a failed head leaves nothing, a retried head starts over, and spills work")
{
    fake_stdout out;
    ordered_output ordered(out.writer(), 4, default_spill_dir(), true);
    CHECK_FALSE(ordered.write(0, "partial").failed());
    CHECK(out.all().empty()); // held, not streamed
    CHECK_FALSE(ordered.write(1, "one;").failed());
    CHECK_FALSE(ordered.finish(1, true).failed());
    CHECK_FALSE(ordered.finish(0, false).failed()); // the head failed half-way: none of it is written
    CHECK(out.all() == "one;");
    CHECK(ordered.head() == 2);

    // An open item that becomes the head stays held until it ends; a new answer voids its bytes.
    CHECK_FALSE(ordered.write(3, "three;").failed());
    CHECK_FALSE(ordered.write(2, "cut").failed());
    CHECK_FALSE(ordered.begin(2).failed());
    CHECK_FALSE(ordered.write(2, "two, whole and longer than the memory bound;").failed());
    CHECK(ordered.spilled_bytes() > 0);
    CHECK_FALSE(ordered.finish(3, true).failed());
    CHECK(out.all() == "one;");
    CHECK_FALSE(ordered.finish(2, true).failed());
    CHECK(out.all() == "one;two, whole and longer than the memory bound;three;");
    CHECK(ordered.held_bytes() == 0);
    CHECK(ordered.spilled_bytes() == 0);
}
