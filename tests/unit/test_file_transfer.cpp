// Files sent to a worker ahead of an item and back after it (--transfer,
// --return): the frames that carry them and how each side writes them.
#include <doctest/doctest.h>

#include "temp_files.hpp"

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

using ppool::test::exists;
using ppool::test::slurp;
using ppool::test::TempDir;

}  // namespace

TEST_CASE("file parts round-trip every field, in both directions") {
    const std::string data("x\0y", 3);
    FilePart part{42, true, false, false, 0754, "dir/a b.txt", data};
    std::string wire;
    encode_file_part(wire, part);
    // The decoded part points into its payload, which must outlive it.
    auto payload = payload_of(wire);
    auto back = decode_file_part(payload);
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
    payload = payload_of(wire);
    back = decode_file_part(payload);
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

TEST_CASE("the worker writes the files sent ahead of their items, in order or not at all") {
    TempDir dir;
    auto first = dir.path + "/sub/a.txt";
    FileReceiver receiver;
    receiver.receive(FilePart{1, true, false, false, 0640, first, "hello "});
    receiver.receive(FilePart{1, false, true, false, 0640, first, "world"});
    receiver.receive(FilePart{2, true, true, true, 0, "b.txt", "cannot transfer b.txt: No such file or directory"});
    CHECK(slurp(first) == "hello world");
    auto got = receiver.take(1);
    REQUIRE(got.files.size() == 1);
    CHECK(got.files[0].first == first);
    CHECK(got.files[0].second == std::vector<std::string>{dir.path + "/sub"});
    CHECK(got.error.empty());
    CHECK(receiver.take(1).files.empty());
    CHECK(receiver.take(2).error == "cannot transfer b.txt: No such file or directory");
    // A part that follows no first part of its file.
    CHECK_THROWS_AS(receiver.receive(FilePart{3, false, true, false, 0644, first, "x"}), ProtocolError);

    // What cannot be written fails its item, and the rest of the file is dropped.
    auto blocked = first + "/under-a-file";
    receiver.receive(FilePart{4, true, false, false, 0644, blocked, "x"});
    receiver.receive(FilePart{4, false, true, false, 0644, blocked, "y"});
    CHECK(receiver.take(4).error.rfind("--transfer: cannot write " + blocked, 0) == 0);
}

TEST_CASE("an item's files go back part by part, then are cleaned up with those sent") {
    TempDir dir;
    auto sent = dir.path + "/made/in.txt";
    FileReceiver receiver;
    receiver.receive(FilePart{5, true, true, false, 0644, sent, "in"});
    std::ofstream(sent + ".out", std::ios::binary) << std::string(10000, 'o');
    std::vector<std::string> parts;
    std::string back;
    return_files({"{}.out", "{}.none"}, true, TaskContext{sent, 5, 0}, receiver.take(5), 4096,
                 [&](const FilePart& p) {
                     CHECK(p.seq == 5);
                     parts.push_back(std::string(p.path) + (p.first ? " first" : "") + (p.last ? " last" : "") +
                                     (p.failed ? " failed: " + std::string(p.data) : ""));
                     if (!p.failed) back += p.data;
                 });
    CHECK(parts == std::vector<std::string>{sent + ".out first", sent + ".out", sent + ".out last",
                                            sent + ".none first last failed: No such file or directory"});
    CHECK(back == std::string(10000, 'o'));
    // Both files, and the directory made for them, are gone.
    CHECK_FALSE(exists(dir.path + "/made"));
}
