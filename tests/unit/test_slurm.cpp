#include <doctest/doctest.h>

#include "ppool/errors.hpp"
#include "protocol/mux.hpp"
#include "os/tcp.hpp"
#include "remote/slurm.hpp"

#include <poll.h>
#include <sys/socket.h>

using namespace ppool;
namespace mux = ppool::protocol::mux;

TEST_CASE("SLURM_JOB_CPUS_PER_NODE gives one count per node") {
    using V = std::vector<std::size_t>;
    CHECK(remote::parse_cpus_per_node("4") == V{4});
    CHECK(remote::parse_cpus_per_node("2(x3)") == V{2, 2, 2});
    CHECK(remote::parse_cpus_per_node("72(x2),36") == V{72, 72, 36});
    CHECK(remote::parse_cpus_per_node("1,2(x2),3") == V{1, 2, 2, 3});
    for (const char* bad : {"", ",", "4,", "x", "2(x", "2(x)", "2(x0)", "0", "-1", "2(y3)", "4 ", "2(x3)junk"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(remote::parse_cpus_per_node(bad), UsageError);
    }
}

TEST_CASE("a hub's frames come back as they were sent, however the reads cut them") {
    std::string wire;
    mux::append_hello(wire);
    mux::append(wire, mux::Kind::open, 7);
    mux::append(wire, mux::Kind::data, 7, std::string(100000, 'x'));
    mux::append(wire, mux::Kind::shut, 7);
    mux::append_ended(wire, 7, -1, 9);
    for (std::size_t piece : {std::size_t{1}, std::size_t{10}, wire.size()}) {
        CAPTURE(piece);
        mux::Reader reader;
        std::vector<std::tuple<mux::Kind, std::uint32_t, std::string>> frames;
        for (std::size_t at = 0; at < wire.size(); at += piece) {
            reader.buffer().append(wire.substr(at, piece));
            while (auto f = reader.next()) frames.emplace_back(f->kind, f->id, std::string(f->payload));
        }
        REQUIRE(frames.size() == 5);
        CHECK(mux::decode_hello(std::get<2>(frames[0])) == mux::k_version);
        CHECK(frames[1] == std::make_tuple(mux::Kind::open, 7u, std::string()));
        CHECK(frames[2] == std::make_tuple(mux::Kind::data, 7u, std::string(100000, 'x')));
        CHECK(std::get<0>(frames[3]) == mux::Kind::shut);
        CHECK(mux::decode_ended(std::get<2>(frames[4])) == std::make_pair(-1, 9));
    }
}

TEST_CASE("a hub's channel refuses an unknown kind or an oversized frame at its header") {
    for (std::string head : {std::string("\x00\x01\x00\x00\x00\x00\x00\x00\x00", 9),
                             std::string("\x09\x01\x00\x00\x00\x00\x00\x00\x00", 9),
                             std::string("\x03\x01\x00\x00\x00\xff\xff\xff\x7f", 9)}) {
        mux::Reader reader;
        reader.buffer() = head;
        CHECK_THROWS_AS(reader.next(), protocol::ProtocolError);
    }
    CHECK_THROWS_AS(mux::decode_ended("abc"), protocol::ProtocolError);
    CHECK_THROWS_AS(mux::decode_hello(""), protocol::ProtocolError);
}

TEST_CASE("a connect frame carries a port and a token") {
    std::string wire;
    std::string token(mux::k_token_size, '\x7f');
    mux::append_connect(wire, 40000, token);
    mux::Reader reader;
    reader.buffer() = wire;
    auto f = reader.next();
    REQUIRE(f);
    CHECK(f->kind == mux::Kind::connect);
    CHECK(mux::decode_connect(f->payload) == std::make_pair(std::uint16_t{40000}, token));
    CHECK_THROWS_AS(mux::decode_connect("short"), protocol::ProtocolError);
    CHECK_THROWS_AS(mux::decode_connect(std::string(4 + mux::k_token_size, '\0')), protocol::ProtocolError);
}

TEST_CASE("a TCP listener on every address takes a connection to 127.0.0.1") {
    auto listener = os::listen_tcp();
    REQUIRE(listener.port != 0);
    std::string error;
    auto client = os::connect_tcp("127.0.0.1", listener.port, 5000, error);
    REQUIRE_MESSAGE(client, error);
    os::write_all(client.get(), "token");
    pollfd p{listener.fd.get(), POLLIN, 0};
    REQUIRE(::poll(&p, 1, 5000) == 1);
    os::Fd server(::accept4(listener.fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
    REQUIRE(server);
    char got[5];
    CHECK(os::read_within(server.get(), got, sizeof got, 5000));
    CHECK(std::string_view(got, sizeof got) == "token");
    // Nothing more comes: the wait ends with false, not a hang.
    CHECK_FALSE(os::read_within(server.get(), got, 1, 50));
    client.reset();
    CHECK_FALSE(os::read_within(server.get(), got, 1, 5000));
}

TEST_CASE("connect_tcp says why it could not connect") {
    std::string error;
    CHECK_FALSE(os::connect_tcp("not an address", 1, 1000, error));
    CHECK(error.find("not an address") != std::string::npos);
    auto listener = os::listen_tcp();
    auto port = listener.port;
    listener.fd.reset();
    error.clear();
    CHECK_FALSE(os::connect_tcp("127.0.0.1", port, 5000, error));
    CHECK(error == "Connection refused");
}
