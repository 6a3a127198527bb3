#include "cli/fetch/atomic_file.hpp"

#include <doctest/doctest.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace fxrates::cli::fetch;

namespace {

// A scratch folder holding the output folder `out` and a folder `outside` that nothing may reach
// through `out`; removed with all it holds when the test ends.
struct scratch
{
    std::string path;
    std::string out;
    std::string outside;
    unique_fd root;

    scratch()
    {
        char pattern[] = "/tmp/fxrates-atomic-test-XXXXXX";
        REQUIRE(::mkdtemp(pattern) != nullptr);
        path = pattern;
        out = path + "/out";
        outside = path + "/outside";
        REQUIRE(::mkdir(outside.c_str(), 0755) == 0);
        std::string why;
        root = open_output_dir(out, true, why);
        REQUIRE_MESSAGE(root, why);
    }

    ~scratch() { CHECK(std::system(("rm -rf '" + path + "'").c_str()) == 0); }

    static std::string read(const std::string& file)
    {
        std::ifstream in(file, std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        return text.str();
    }

    static void write(const std::string& file, const std::string& text) { std::ofstream(file) << text; }

    // The names in `folder`, hidden ones included, sorted.
    static std::vector<std::string> list(const std::string& folder)
    {
        std::vector<std::string> names;
        DIR* dir = ::opendir(folder.c_str());
        REQUIRE(dir != nullptr);
        while (dirent* entry = ::readdir(dir))
            if (std::string_view(entry->d_name) != "." && std::string_view(entry->d_name) != "..")
                names.emplace_back(entry->d_name);
        ::closedir(dir);
        std::sort(names.begin(), names.end());
        return names;
    }
};

} // namespace

TEST_CASE("an output file appears under its name only when committed, with no temporary left")
{
    scratch s;
    atomic_file file;
    REQUIRE(file.open(s.root.get(), "rates.json").empty());
    CHECK(file.write("{\"a\":").empty());
    CHECK(file.write("1}").empty());
    CHECK(file.size() == 7);
    auto during = scratch::list(s.out);
    REQUIRE(during.size() == 1);
    CHECK(during[0].rfind(".rates.json.fxrates-", 0) == 0);
    CHECK(during[0].size() == std::string(".rates.json.fxrates-").size() + 6);
    CHECK(file.commit(false).empty());
    CHECK(scratch::list(s.out) == std::vector<std::string>{"rates.json"});
    CHECK(scratch::read(s.out + "/rates.json") == "{\"a\":1}");
    // The mtime it reports is the committed file's, as a lookup by name would give it.
    struct stat committed{};
    REQUIRE(::stat((s.out + "/rates.json").c_str(), &committed) == 0);
    CHECK(file.committed_mtime_ns() ==
          static_cast<std::int64_t>(committed.st_mtim.tv_sec) * 1'000'000'000 + committed.st_mtim.tv_nsec);
    CHECK(file.committed_mtime_ns() > 0);
}

TEST_CASE("subfolders of an output name are created inside the output folder")
{
    scratch s;
    atomic_file file;
    REQUIRE(file.open(s.root.get(), "a/b/c.txt").empty());
    CHECK(file.write("x").empty());
    CHECK(file.commit(false, true).empty());
    CHECK(scratch::read(s.out + "/a/b/c.txt") == "x");
}

TEST_CASE("an existing file is never replaced without overwrite, and replaced with it")
{
    scratch s;
    scratch::write(s.out + "/keep.txt", "old");
    atomic_file file;
    REQUIRE(file.open(s.root.get(), "keep.txt").empty());
    CHECK(file.write("new").empty());
    CHECK(file.commit(false) == "\"keep.txt\" exists; --overwrite to replace");
    CHECK(scratch::read(s.out + "/keep.txt") == "old");
    CHECK(scratch::list(s.out) == std::vector<std::string>{"keep.txt"}); // the temporary file is gone

    atomic_file again;
    REQUIRE(again.open(s.root.get(), "keep.txt").empty());
    CHECK(again.write("new").empty());
    CHECK(again.commit(true).empty());
    CHECK(scratch::read(s.out + "/keep.txt") == "new");
}

TEST_CASE("of two writers of one name, the second to commit finds the first's file and keeps it")
{
    scratch s;
    atomic_file first, second;
    REQUIRE(first.open(s.root.get(), "same").empty());
    REQUIRE(second.open(s.root.get(), "same").empty());
    CHECK(first.write("1").empty());
    CHECK(second.write("2").empty());
    CHECK(first.commit(false).empty());
    CHECK(second.commit(false) == "\"same\" exists; --overwrite to replace");
    CHECK(scratch::read(s.out + "/same") == "1");
}

TEST_CASE("a symbolic link planted in the output folder never leads a file out of it")
{
    scratch s;
    REQUIRE(::symlink(s.outside.c_str(), (s.out + "/evil").c_str()) == 0);
    atomic_file file;
    CHECK(file.open(s.root.get(), "evil/x") ==
          "cannot write \"evil/x\": \"evil\" is a symbolic link or not a folder; fxrates never follows links "
          "inside the output folder");
    CHECK(file.open(s.root.get(), "evil/deeper/x").find("symbolic link") != std::string::npos);
    CHECK(scratch::list(s.outside).empty());

    // A link deeper down, and a link to a folder within the output folder too: no link is followed.
    REQUIRE(::mkdir((s.out + "/sub").c_str(), 0755) == 0);
    REQUIRE(::symlink("..", (s.out + "/sub/up").c_str()) == 0);
    CHECK(file.open(s.root.get(), "sub/up/x").find("symbolic link") != std::string::npos);
    CHECK_FALSE(::access((s.out + "/x").c_str(), F_OK) == 0);
}

TEST_CASE(
    "a symbolic link as the final name is kept, or replaced itself with overwrite, never written through")
{
    scratch s;
    std::string target = s.outside + "/victim";
    scratch::write(target, "precious");
    REQUIRE(::symlink(target.c_str(), (s.out + "/link").c_str()) == 0);
    atomic_file file;
    REQUIRE(file.open(s.root.get(), "link").empty());
    CHECK(file.write("evil").empty());
    CHECK(file.commit(false) == "\"link\" exists; --overwrite to replace");
    CHECK(scratch::read(target) == "precious");

    REQUIRE(file.open(s.root.get(), "link").empty());
    CHECK(file.write("data").empty());
    CHECK(file.commit(true).empty());
    CHECK(scratch::read(target) == "precious");
    struct stat status;
    REQUIRE(::lstat((s.out + "/link").c_str(), &status) == 0);
    CHECK(S_ISREG(status.st_mode));
    CHECK(scratch::read(s.out + "/link") == "data");
}

TEST_CASE("a file where a folder of the name should be is an error, not a replacement")
{
    scratch s;
    scratch::write(s.out + "/plain", "file");
    atomic_file file;
    CHECK(file.open(s.root.get(), "plain/x").find("\"plain\" is a symbolic link or not a folder") !=
          std::string::npos);
    CHECK(scratch::read(s.out + "/plain") == "file");
}

TEST_CASE("reset starts the file over, and an uncommitted file is removed")
{
    scratch s;
    {
        atomic_file file;
        REQUIRE(file.open(s.root.get(), "retry").empty());
        CHECK(file.write("first attempt, longer").empty());
        CHECK(file.reset().empty());
        CHECK(file.size() == 0);
        CHECK(file.write("second").empty());
        CHECK(file.commit(false).empty());
        CHECK(scratch::read(s.out + "/retry") == "second");
    }
    {
        atomic_file file;
        REQUIRE(file.open(s.root.get(), "abandoned").empty());
        CHECK(file.write("x").empty());
        file.discard();
        file.discard();
        CHECK(file.commit(false).find("not open") != std::string::npos);
    }
    {
        atomic_file file;
        REQUIRE(file.open(s.root.get(), "dropped").empty());
        CHECK(file.write("x").empty());
    }
    CHECK(scratch::list(s.out) == std::vector<std::string>{"retry"});
}

TEST_CASE("output files get mode 0644 less the umask")
{
    scratch s;
    mode_t previous = ::umask(077);
    atomic_file file;
    std::string opened = file.open(s.root.get(), "private");
    ::umask(previous);
    REQUIRE(opened.empty());
    CHECK(file.commit(false).empty());
    struct stat status;
    REQUIRE(::stat((s.out + "/private").c_str(), &status) == 0);
    CHECK((status.st_mode & 0777) == 0600);

    previous = ::umask(022);
    opened = file.open(s.root.get(), "public");
    ::umask(previous);
    REQUIRE(opened.empty());
    CHECK(file.commit(false).empty());
    REQUIRE(::stat((s.out + "/public").c_str(), &status) == 0);
    CHECK((status.st_mode & 0777) == 0644);
}

TEST_CASE("a name of 255 bytes still gets a temporary file, its name shortened at a character boundary")
{
    scratch s;
    std::string name = "\xC3\xA9" + std::string(253, 'n');
    atomic_file file;
    REQUIRE(file.open(s.root.get(), name).empty());
    auto during = scratch::list(s.out);
    REQUIRE(during.size() == 1);
    CHECK(during[0].size() <= 255);
    CHECK(file.commit(false).empty());
    CHECK(scratch::list(s.out) == std::vector<std::string>{name});
}

TEST_CASE("absolute names and dot components are refused even here, as a second line of defence")
{
    scratch s;
    atomic_file file;
    for (const char* name : {"/etc/passwd", "../x", "a/../../b", "a/./b", "a//b", "a/", ""})
    {
        CAPTURE(std::string(name));
        CHECK(file.open(s.root.get(), name).find("not a relative name below the output folder") !=
              std::string::npos);
    }
    CHECK(scratch::list(s.out).empty());
    CHECK(scratch::list(s.path) == std::vector<std::string>{"out", "outside"});
}

TEST_CASE("file_exists sees files, folders and links without following links on the way")
{
    scratch s;
    std::string why;
    scratch::write(s.out + "/here", "x");
    REQUIRE(::mkdir((s.out + "/dir").c_str(), 0755) == 0);
    REQUIRE(::symlink("/nonexistent", (s.out + "/dangling").c_str()) == 0);
    REQUIRE(::symlink(s.outside.c_str(), (s.out + "/evil").c_str()) == 0);
    scratch::write(s.outside + "/secret", "x");
    CHECK(file_exists(s.root.get(), "here", why) == true);
    CHECK(file_exists(s.root.get(), "dir", why) == true);
    CHECK(file_exists(s.root.get(), "dangling", why) == true);
    CHECK(file_exists(s.root.get(), "missing", why) == false);
    CHECK(file_exists(s.root.get(), "missing/deeper/x", why) == false);
    CHECK(why.empty());
    CHECK_FALSE(file_exists(s.root.get(), "evil/secret", why).has_value());
    CHECK(why.find("symbolic link") != std::string::npos);
    CHECK_FALSE(file_exists(s.root.get(), "../outside/secret", why).has_value());
}

TEST_CASE("an output folder that cannot be opened or created is named in the error")
{
    scratch s;
    const std::string file = s.path + "/file";
    std::ofstream(file) << "not a folder";
    std::string why;
    CHECK_FALSE(open_output_dir(file + "/out", true, why));
    CHECK(why == "cannot create the output folder \"" + file + "/out\": Not a directory");
    CHECK_FALSE(open_output_dir(s.path + "/missing", false, why));
    CHECK(why.rfind("cannot open the output folder \"" + s.path + "/missing\": ", 0) == 0);
}

TEST_CASE("an output folder is created with the folders on its way")
{
    scratch s;
    std::string why;
    CHECK(open_output_dir(s.path + "/a/b//c/", true, why));
    CHECK(why.empty());
    struct stat made{};
    CHECK(::stat((s.path + "/a/b/c").c_str(), &made) == 0);
    CHECK(S_ISDIR(made.st_mode));
    CHECK(open_output_dir(s.path + "/a/b/c", true, why)); // already there: opened as it is
}

TEST_CASE("a partial download is kept under a fixed hidden name with its note, continued, and put in place whole")
{
    scratch dir;
    {
        atomic_file file;
        REQUIRE(file.open_partial(dir.root.get(), "big.bin", false, "{\"url\":\"u\"}") == "");
        CHECK(file.partial());
        REQUIRE(file.write("first half, ") == "");
        file.keep(); // a Ctrl-C: left for --continue
    }
    CHECK(scratch::list(dir.out) == std::vector<std::string>{".big.bin.fxrates-partial", ".big.bin.fxrates-partial.json"});
    CHECK(atomic_file::read_note(dir.root.get(), "big.bin") == "{\"url\":\"u\"}");
    CHECK_FALSE(atomic_file::read_note(dir.root.get(), "other.bin"));

    atomic_file again;
    REQUIRE(again.open_partial(dir.root.get(), "big.bin", true) == "");
    CHECK(again.size() == 12);
    std::string held;
    REQUIRE(again.read_back(again.size(), [&](std::string_view piece) { held += piece; }) == "");
    CHECK(held == "first half, ");
    REQUIRE(again.write("second half") == "");
    REQUIRE(again.commit(false) == "");
    CHECK(scratch::read(dir.out + "/big.bin") == "first half, second half");
    CHECK(scratch::list(dir.out) == std::vector<std::string>{"big.bin"}); // the note went with it
}

TEST_CASE("a partial download that starts over is cut, and a discarded one leaves nothing")
{
    scratch dir;
    atomic_file file;
    REQUIRE(file.open_partial(dir.root.get(), "a/b.bin", false, "n") == "");
    REQUIRE(file.write("0123456789") == "");
    REQUIRE(file.truncate(4) == "");
    REQUIRE(file.write("x") == "");
    file.discard();
    CHECK(scratch::list(dir.out + "/a").empty());
    atomic_file temporary; // keep() on a temporary file is a discard: only partial files stay
    REQUIRE(temporary.open(dir.root.get(), "t.bin") == "");
    temporary.keep();
    CHECK(scratch::list(dir.out) == std::vector<std::string>{"a"});
}

TEST_CASE("a link planted under a partial file's name is not followed")
{
    scratch dir;
    REQUIRE(::symlink((dir.outside + "/target").c_str(), (dir.out + "/.x.fxrates-partial").c_str()) == 0);
    atomic_file file;
    CHECK(file.open_partial(dir.root.get(), "x", true) != "");
    CHECK(scratch::list(dir.outside).empty());
}

TEST_CASE("a partial file another run holds, or a name too long for a partial name of its own, is not shared")
{
    scratch dir;
    atomic_file first;
    REQUIRE(first.open_partial(dir.root.get(), "big.bin", false, "n") == "");
    REQUIRE(first.write("first run's bytes") == "");
    atomic_file second; // another run: flock is per open file, so this stands for another process
    CHECK(second.open_partial(dir.root.get(), "big.bin", false, "m") == atomic_file::partial_unavailable);
    CHECK(scratch::read(dir.out + "/.big.bin.fxrates-partial") == "first run's bytes"); // not emptied
    CHECK(scratch::read(dir.out + "/.big.bin.fxrates-partial.json") == "n");
    const std::string long_name(240, 'a');
    atomic_file cut;
    CHECK(cut.open_partial(dir.root.get(), long_name + "1.bin", false, "n") == atomic_file::partial_unavailable);
}
