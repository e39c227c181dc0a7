// Files moved in parts: written whole under their name or not at all, read
// a part at a time.
#include <doctest/doctest.h>

#include "temp_files.hpp"

#include "os/file_parts.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace ppool::os;

namespace {

using ppool::test::exists;
using ppool::test::slurp;
using ppool::test::TempDir;

}  // namespace

TEST_CASE("a received file appears whole, with its mode, or not at all") {
    TempDir dir;
    auto path = dir.path + "/new/sub/f.txt";
    {
        IncomingFile file;
        file.begin(path, 0750);
        CHECK(file.made == std::vector<std::string>{dir.path + "/new", dir.path + "/new/sub"});
        file.append("hello ");
        CHECK_FALSE(exists(path));
        file.append("world");
        file.commit();
    }
    CHECK(slurp(path) == "hello world");
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0750);

    auto other = dir.path + "/new/g.txt";
    {
        IncomingFile file;
        file.begin(other, 0644);
        file.append("partial");
    }
    CHECK_FALSE(exists(other));
    // Nothing of the abandoned file is left beside it.
    CHECK(std::system(("test -z \"$(ls -A '" + dir.path + "/new' | grep -v '^sub$')\"").c_str()) == 0);

    remove_with_empty_dirs(path, {dir.path + "/new", dir.path + "/new/sub"});
    CHECK_FALSE(exists(dir.path + "/new"));
    CHECK(exists(dir.path));
}

TEST_CASE("a file being received moves with its temporary file") {
    TempDir dir;
    auto path = dir.path + "/moved.txt";
    IncomingFile target;
    {
        IncomingFile source;
        source.begin(path, 0600);
        source.append("moved ");
        target = std::move(source);
    }
    // The moved-from file, gone, took nothing with it.
    target.append("whole");
    IncomingFile last(std::move(target));
    last.commit();
    CHECK(slurp(path) == "moved whole");
}

TEST_CASE("a file is read in parts, the last one marked") {
    TempDir dir;
    auto path = dir.path + "/big";
    std::string content(10000, 'x');
    content[9999] = 'y';
    std::ofstream(path, std::ios::binary) << content;
    ::chmod(path.c_str(), 0604);
    std::string got;
    int parts = 0, lasts = 0;
    OutgoingFile file(path);
    CHECK(file.mode() == 0604);
    std::string data;
    for (bool last = false; !last;) {
        last = file.read(data, 4096);
        CHECK(data.size() <= 4096);
        got += data;
        ++parts;
        lasts += last;
    }
    CHECK(got == content);
    CHECK(parts == 3);
    CHECK(lasts == 1);

    std::ofstream(dir.path + "/empty");
    parts = 0;
    OutgoingFile empty(dir.path + "/empty");
    CHECK(empty.read(data, 4096));
    CHECK(data.empty());

    // A size that is a multiple of the part: an empty last part says it ended.
    std::ofstream(dir.path + "/even", std::ios::binary) << std::string(8192, 'e');
    OutgoingFile even(dir.path + "/even");
    CHECK_FALSE(even.read(data, 4096));
    CHECK_FALSE(even.read(data, 4096));
    CHECK(even.read(data, 4096));
    CHECK(data.empty());

    try {
        OutgoingFile missing(dir.path + "/missing");
        FAIL("a missing file was opened");
    } catch (const std::exception& e) {
        CHECK(failure_reason(e) == "No such file or directory");
    }
    try {
        OutgoingFile directory(dir.path);
        FAIL("a directory was opened");
    } catch (const std::exception& e) {
        CHECK(failure_reason(e) == "Is a directory");
    }
}
