// Files sent to a worker ahead of an item and back after it (--transfer,
// --return): the frames that carry them and how each side writes them.
#include <doctest/doctest.h>

#include "protocol/frame.hpp"
#include "protocol/messages.hpp"
#include "worker/command_template.hpp"
#include "worker/file_transfer.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace ppool;
using namespace ppool::protocol;
using namespace ppool::worker;

namespace {

std::string payload_of(const std::string& wire) {
    FrameReader reader(FrameReader::k_from_worker);
    reader.buffer() = wire;
    auto frame = reader.next();
    REQUIRE(frame);
    CHECK(frame->type == FrameType::file);
    return std::string(frame->payload);
}

/// A fresh directory, removed with what is in it at the end.
struct TempDir {
    std::string path;
    TempDir() {
        std::string name = (std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + std::string("/ppool-ft-XXXXXX");
        REQUIRE(::mkdtemp(name.data()));
        path = name;
    }
    ~TempDir() { [[maybe_unused]] int rc = std::system(("rm -rf '" + path + "'").c_str()); }
};

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace

TEST_CASE("file parts round-trip every field, in both directions") {
    const std::string data("x\0y", 3);
    FilePart part{42, true, false, false, 0754, "dir/a b.txt", data};
    std::string wire;
    encode_file_part(wire, part);
    auto back = decode_file_part(payload_of(wire));
    CHECK(back.seq == 42);
    CHECK(back.first);
    CHECK_FALSE(back.last);
    CHECK_FALSE(back.failed);
    CHECK(back.mode == 0754);
    CHECK(back.path == "dir/a b.txt");
    CHECK(back.data == data);

    FilePart failed{7, true, true, true, 0, "/abs/f.out", "No such file or directory"};
    wire.clear();
    encode_file_part(wire, failed);
    back = decode_file_part(payload_of(wire));
    CHECK(back.failed);
    CHECK(back.data == "No such file or directory");

    // The parent reads what workers send; a worker reads any frame.
    FrameReader any;
    any.buffer() = wire;
    CHECK(any.next());
}

TEST_CASE("corrupt file parts are rejected") {
    auto wire_of = [](const FilePart& p) {
        std::string wire;
        encode_file_part(wire, p);
        return payload_of(wire);
    };
    auto good = wire_of(FilePart{1, true, true, false, 0644, "f", "data"});
    CHECK_NOTHROW(decode_file_part(good));
    // The flags byte follows the sequence number.
    auto with_flags = good;
    with_flags[8] = 8;
    CHECK_THROWS_AS(decode_file_part(with_flags), ProtocolError);
    CHECK_THROWS_AS(decode_file_part(wire_of(FilePart{1, false, true, true, 0, "f", "why"})), ProtocolError);
    CHECK_THROWS_AS(decode_file_part(wire_of(FilePart{1, true, true, false, 010000, "f", ""})), ProtocolError);
    CHECK_THROWS_AS(decode_file_part(wire_of(FilePart{1, true, true, false, 0644, "", ""})), ProtocolError);
    const std::string nul("a\0b", 3);
    CHECK_THROWS_AS(decode_file_part(wire_of(FilePart{1, true, true, false, 0644, nul, ""})), ProtocolError);
    CHECK_THROWS_AS(decode_file_part(good.substr(0, good.size() - 1)), ProtocolError);
    CHECK_THROWS_AS(decode_file_part(good + "x"), ProtocolError);
}

TEST_CASE("files land where GNU parallel puts them") {
    CHECK(remote_path("foo/bar") == "foo/bar");
    CHECK(remote_path("/tmp/foo/bar") == "/tmp/foo/bar");
    CHECK(remote_path("/tmp/./foo/bar") == "foo/bar");
    CHECK(remote_path("tmp/./foo/bar") == "foo/bar");
    CHECK(remote_path("./foo") == "foo");
}

TEST_CASE("--return names are templates filled in without quoting") {
    TaskContext c{"dir/a b.txt", 3, 1};
    CHECK(expand_template("{}.out", c) == "dir/a b.txt.out");
    CHECK(expand_template("{.}.gz", c) == "dir/a b.gz");
    CHECK(expand_template("out/{/}-{#}-{%}", c) == "out/a b.txt-3-2");
    CHECK(expand_template("plain", c) == "plain");
}

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
    read_file_parts(path, 4096, [&](std::string_view data, bool last, std::uint32_t mode) {
        CHECK(mode == 0604);
        CHECK(data.size() <= 4096);
        got += data;
        ++parts;
        lasts += last;
    });
    CHECK(got == content);
    CHECK(parts == 3);
    CHECK(lasts == 1);

    std::ofstream(dir.path + "/empty");
    parts = 0;
    read_file_parts(dir.path + "/empty", 4096, [&](std::string_view data, bool last, std::uint32_t) {
        CHECK(data.empty());
        CHECK(last);
        ++parts;
    });
    CHECK(parts == 1);

    try {
        read_file_parts(dir.path + "/missing", 4096, [](std::string_view, bool, std::uint32_t) {});
        FAIL("a missing file was read");
    } catch (const std::exception& e) {
        CHECK(reason_of(e) == "No such file or directory");
    }
    try {
        read_file_parts(dir.path, 4096, [](std::string_view, bool, std::uint32_t) {});
        FAIL("a directory was read");
    } catch (const std::exception& e) {
        CHECK(reason_of(e) == "Is a directory");
    }
}
