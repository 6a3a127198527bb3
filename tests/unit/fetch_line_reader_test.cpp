#include "cli/fetch/line_reader.hpp"
#include "cli/fetch/unique_fd.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <thread>

using namespace fxrates::cli::fetch;

namespace {

// A pipe: what the test writes, the reader reads.
struct test_pipe
{
    test_pipe()
    {
        int ends[2];
        REQUIRE(::pipe2(ends, O_CLOEXEC) == 0);
        read_end.reset(ends[0]);
        write_end.reset(ends[1]);
    }
    void write(const std::string& text) const
    {
        REQUIRE(::write(write_end.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    }
    unique_fd read_end, write_end;
};

} // namespace

TEST_CASE("a line reader gives each line, the last one without its newline too")
{
    test_pipe in;
    in.write("one\n\ntwo\r\nthree");
    in.write_end.reset();
    line_reader reader(in.read_end.get(), 100);
    std::string line;
    REQUIRE(reader.next(line) == line_reader::status::line);
    CHECK(line == "one");
    REQUIRE(reader.next(line) == line_reader::status::line);
    CHECK(line.empty());
    REQUIRE(reader.next(line) == line_reader::status::line);
    CHECK(reader.line_offset() == 5);
    CHECK(line == "two\r"); // the list's parser trims it
    REQUIRE(reader.next(line) == line_reader::status::line);
    CHECK(line == "three");
    CHECK(reader.next(line) == line_reader::status::end);
    CHECK(reader.next(line) == line_reader::status::end);
}

TEST_CASE("a line over the limit is skipped to its newline, and the next line is read whole")
{
    test_pipe in;
    line_reader reader(in.read_end.get(), 8);
    std::string line;
    std::thread writer([&] {
        in.write("12345678\n");
        // Longer than the reader's buffer, in pieces: forgotten as it comes.
        for (int i = 0; i < 40; ++i)
            in.write(std::string(10'000, 'x'));
        in.write("\nshort\n123456789");
        in.write_end.reset();
    });
    REQUIRE(reader.next(line) == line_reader::status::line);
    CHECK(line == "12345678"); // exactly the limit is fine
    CHECK(reader.next(line) == line_reader::status::too_long);
    REQUIRE(reader.next(line) == line_reader::status::line);
    CHECK(line == "short");
    CHECK(reader.line_offset() == 9 + 400'001);
    CHECK(reader.next(line) == line_reader::status::too_long); // the last line, without a newline
    CHECK(reader.next(line) == line_reader::status::end);
    writer.join();
}

TEST_CASE("a FIFO opened before its writer came is read once the writer writes, not taken as empty")
{
    char folder_template[] = "/tmp/line_reader_test.XXXXXX";
    REQUIRE(::mkdtemp(folder_template) != nullptr);
    const std::string fifo = std::string(folder_template) + "/list";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    // As url_reader opens a list: without waiting for the writer.
    unique_fd in(::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    REQUIRE(in);
    test_pipe stop;
    line_reader reader(in.get(), 100, stop.read_end.get());
    std::thread writer([&] {
        unique_fd out(::open(fifo.c_str(), O_WRONLY | O_CLOEXEC));
        REQUIRE(::write(out.get(), "late\n", 5) == 5);
    });
    std::string line;
    REQUIRE(reader.next(line) == line_reader::status::line);
    CHECK(line == "late");
    writer.join();
    CHECK(reader.next(line) == line_reader::status::end);
    ::unlink(fifo.c_str());
    ::rmdir(folder_template);
}

TEST_CASE("a read that waits for a quiet writer ends when the stop descriptor becomes readable")
{
    test_pipe in, stop;
    in.write("first\n");
    line_reader reader(in.read_end.get(), 100, stop.read_end.get());
    std::string line;
    REQUIRE(reader.next(line) == line_reader::status::line);
    CHECK(line == "first");
    // The writer stays quiet (and open): only the stop can end the next read.
    std::thread stopper([&] { stop.write("x"); });
    CHECK(reader.next(line) == line_reader::status::stopped);
    stopper.join();
    CHECK(reader.next(line) == line_reader::status::stopped);
}

TEST_CASE("a read error is reported with its errno")
{
    // A folder opens, but cannot be read.
    unique_fd folder(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    REQUIRE(folder);
    line_reader reader(folder.get(), 100);
    std::string line;
    CHECK(reader.next(line) == line_reader::status::failed);
    CHECK(reader.error() == EISDIR);
}
