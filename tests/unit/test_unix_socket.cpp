// Unix sockets between ppool's processes: the peer's identity, and a
// descriptor handed over (a lent worker takes its channel so).
#include <doctest/doctest.h>

#include "os/fd.hpp"
#include "os/unix_socket.hpp"

#include <string>
#include <sys/socket.h>
#include <unistd.h>

using namespace ppool;

TEST_CASE("a descriptor sent over a Unix socket is the same open file on the other side") {
    int pair[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
    os::Fd a(pair[0]), b(pair[1]);
    auto pipe = os::make_pipe();
    os::send_fd(a.get(), pipe.write.get());
    auto received = os::receive_fd(b.get());
    REQUIRE(received);
    CHECK(received->get() != pipe.write.get());
    pipe.write.reset();
    // The copy writes into the pipe; once it is closed too, the reader sees the end.
    os::write_all(received->get(), "through");
    received->reset();
    std::string text;
    while (os::read_some(pipe.read.get(), text, 64) == os::IoStatus::done) {
    }
    CHECK(text == "through");
    // The other end gone: no descriptor, and no error.
    a.reset();
    CHECK_FALSE(os::receive_fd(b.get()));
}

TEST_CASE("the peer of a Unix socket is known by its process and user") {
    int pair[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
    os::Fd a(pair[0]), b(pair[1]);
    CHECK(os::peer_pid(a.get()) == ::getpid());
    CHECK(os::peer_uid(a.get()) == ::getuid());
}
