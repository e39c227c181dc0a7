#include <doctest/doctest.h>

#include "protocol/messages.hpp"

#include <algorithm>

using namespace ppool;
using namespace ppool::protocol;

TEST_CASE("run frames survive any read boundaries") {
    std::string wire;
    std::string big(100000, 'x');
    encode_run(wire, "upper", {{1, "a"}, {2, ""}, {3, big}});
    encode_ready(wire);
    for (std::size_t step : {1u, 7u, 4096u, 1000000u}) {
        FrameReader reader;
        std::vector<FrameType> seen;
        for (std::size_t at = 0; at < wire.size(); at += step) {
            reader.buffer().append(wire.substr(at, step));
            while (auto frame = reader.next()) {
                seen.push_back(frame->type);
                if (frame->type == FrameType::run) {
                    auto run = decode_run(frame->payload);
                    CHECK(run.task == "upper");
                    REQUIRE(run.items.size() == 3);
                    CHECK(run.items[0].seq == 1);
                    CHECK(run.items[1].data.empty());
                    CHECK(run.items[2].data == big);
                }
            }
        }
        CHECK(seen == std::vector<FrameType>{FrameType::run, FrameType::ready});
        CHECK(reader.pending() == 0);
    }
}

TEST_CASE("lengths are 64-bit on the wire") {
    std::string wire;
    auto start = begin_frame(wire, FrameType::result);
    wire.append(5, 'z');
    finish_frame(wire, start);
    // Forge a length over 4 GB: the reader must wait for it, not wrap around.
    wire[1 + 4] = 1;
    FrameReader reader;
    reader.buffer() = wire;
    CHECK_FALSE(reader.next().has_value());
}

TEST_CASE("result messages round-trip every field") {
    ResultMessage in;
    in.seq = 42;
    in.status = Status::signal;
    in.is_command = true;
    in.signal = 9;
    in.duration_ns = 123456789;
    in.output = std::string_view("out\0put", 7);
    in.stderr_text = "err";
    in.error = "why";
    std::string wire;
    encode_result(wire, in);
    FrameReader reader;
    reader.buffer() = wire;
    auto frame = reader.next();
    REQUIRE(frame);
    auto out = decode_result(frame->payload);
    CHECK(out.seq == 42);
    CHECK(out.status == Status::signal);
    CHECK(out.is_command);
    CHECK_FALSE(out.exit_code.has_value());
    CHECK(out.signal == 9);
    CHECK(out.duration_ns == 123456789);
    CHECK(out.output == std::string_view("out\0put", 7));
    CHECK(out.stderr_text == "err");
    CHECK(out.error == "why");
}

TEST_CASE("a timeout travels as the status alone") {
    ResultMessage in;
    in.seq = 3;
    in.status = Status::timeout;
    in.is_command = true;
    std::string wire;
    encode_result(wire, in);
    auto payload = std::string_view(wire).substr(k_header_size);
    // seq, status, then the flags: only the command's.
    CHECK(static_cast<std::uint8_t>(payload[9]) == 1);
    CHECK(decode_result(payload).status == Status::timeout);
}

TEST_CASE("a result with a flag the decoder does not know is rejected") {
    ResultMessage in;
    in.seq = 3;
    in.status = Status::timeout;
    std::string wire;
    encode_result(wire, in);
    auto payload = wire.substr(k_header_size);
    for (std::uint8_t unknown : {2, 16, 128}) {
        payload[9] = static_cast<char>(unknown);
        CHECK_THROWS_AS(decode_result(payload), ProtocolError);
    }
}

TEST_CASE("corrupt frames are rejected, not trusted") {
    FrameReader reader;
    reader.buffer() = std::string("\x0b\0\0\0\0\0\0\0\0", 9);
    CHECK_THROWS_AS(reader.next(), ProtocolError);
    std::string wire;
    encode_run(wire, "t", {{1, "abc"}});
    std::string payload = wire.substr(k_header_size, wire.size() - k_header_size - 1);
    CHECK_THROWS_AS(decode_run(payload), ProtocolError);
    // A count that claims more items than the payload could hold.
    std::string lying;
    Writer w(lying);
    w.bytes("t");
    w.u64(1ull << 40);
    CHECK_THROWS_AS(decode_run(lying), ProtocolError);
}

TEST_CASE("a run frame in pieces is the same bytes as one built whole") {
    std::string big(200000, 'b');
    std::vector<WireItem> items{{1, "small"}, {2, big}, {3, ""}, {4, big}, {5, "tail"}};
    std::string whole;
    encode_run(whole, "task", items);
    Gather gather;
    encode_run(gather, "task", items, 1000);
    std::string joined;
    for (auto piece : gather.pieces) joined.append(piece);
    CHECK(joined == whole);
    // The large items were referenced, not copied.
    CHECK(std::any_of(gather.pieces.begin(), gather.pieces.end(),
                      [&](std::string_view p) { return p.data() == big.data(); }));
}
