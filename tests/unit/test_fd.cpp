#include <doctest/doctest.h>

#include "os/fd.hpp"
#include "temp_files.hpp"

#include <cstdio>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace ppool;

TEST_CASE("a write to a pipe nobody reads stops at the pipe's room, after the stall") {
    auto pipe = os::make_pipe();
    int room = ::fcntl(pipe.write.get(), F_GETPIPE_SZ);
    REQUIRE(room > 0);
    std::string data(static_cast<std::size_t>(room) * 3, 'x');
    auto written = os::write_while_taken(pipe.write.get(), data, 20);
    CHECK(written == static_cast<std::size_t>(room));
    // Full: the next write takes nothing, and returns.
    CHECK(os::write_while_taken(pipe.write.get(), "more", 20) == 0);
    // Drained, it takes again.
    std::string back(static_cast<std::size_t>(room), '\0');
    CHECK(::read(pipe.read.get(), back.data(), back.size()) == room);
    CHECK(back == data.substr(0, back.size()));
    CHECK(os::write_while_taken(pipe.write.get(), "more", 20) == 4);
}

TEST_CASE("a write to a file takes everything") {
    ppool::test::TempDir dir;
    auto path = dir.path + "/out";
    os::Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    REQUIRE(fd);
    std::string data(3 << 20, 'y');
    CHECK(os::write_while_taken(fd.get(), data, 20) == data.size());
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK(static_cast<std::size_t>(st.st_size) == data.size());
}

TEST_CASE("widening a pipe makes it 1 MiB where allowed; anything else is left alone") {
    auto pipe = os::make_pipe();
    os::widen_pipe(pipe.write.get());
    CHECK(::fcntl(pipe.write.get(), F_GETPIPE_SZ) >= (1 << 16));
    os::Fd null = os::open_dev_null();
    os::widen_pipe(null.get());  // not a pipe: nothing happens, nothing fails
}

TEST_CASE("bytes move from a pipe to a pipe, a file, and a file open for appending (copied)") {
    std::string data;
    for (int i = 0; data.size() < 200000; ++i) data += std::to_string(i) + '\n';
    auto fill = [&](const os::Pipe& from, std::size_t n) {
        os::write_all(from.write.get(), std::string_view(data).substr(0, n));
        CHECK(os::bytes_waiting(from.read.get()) == n);
    };
    SUBCASE("to a pipe") {
        auto from = os::make_pipe();
        auto to = os::make_pipe();
        fill(from, 60000);
        os::move_from_pipe(from.read.get(), to.write.get(), 40000);
        CHECK(os::bytes_waiting(from.read.get()) == 20000);
        std::string got(40000, '\0');
        CHECK(os::read_exact(to.read.get(), got.data(), got.size()));
        CHECK(got == data.substr(0, 40000));
    }
    for (int flags : {O_WRONLY | O_CREAT | O_TRUNC, O_WRONLY | O_CREAT | O_APPEND}) {
        CAPTURE(flags);
        ppool::test::TempDir dir;
        auto path = dir.path + "/out";
        os::Fd file(::open(path.c_str(), flags | O_CLOEXEC, 0600));
        REQUIRE(file);
        auto from = os::make_pipe();
        fill(from, 60000);
        os::move_from_pipe(from.read.get(), file.get(), 60000);
        CHECK(os::bytes_waiting(from.read.get()) == 0);
        CHECK(ppool::test::slurp(path) == data.substr(0, 60000));
    }
}
