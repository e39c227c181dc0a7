// The conversation of `ppool serve` with its clients: every request and
// reply round-trips, and anything malformed is refused, never trusted.
#include <doctest/doctest.h>

#include "server/client_protocol.hpp"

#include <string>

using namespace ppool::server;

namespace {

Request round_trip(const Request& q) {
    std::string wire;
    encode_request(wire, q);
    FrameSplitter frames(k_max_request_bytes);
    // Fed a byte at a time: the read boundaries do not matter.
    std::optional<FrameSplitter::Frame> frame;
    for (char c : wire) {
        CHECK_FALSE(frame);
        frames.buffer().push_back(c);
        frame = frames.next();
        if (frame) break;
    }
    REQUIRE(frame);
    return decode_request(frame->kind, frame->payload);
}

Reply round_trip(const Reply& a) {
    std::string wire;
    encode_reply(wire, a);
    FrameSplitter frames(k_max_reply_bytes);
    frames.buffer() = wire;
    auto frame = frames.next();
    REQUIRE(frame);
    return decode_reply(frame->kind, frame->payload);
}

std::string frame(std::uint8_t kind, std::string payload) {
    std::string wire(1, static_cast<char>(kind));
    std::uint64_t n = payload.size();
    for (int i = 0; i < 8; ++i) wire.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    return wire + payload;
}

}  // namespace

TEST_CASE("every request round-trips") {
    Request hello;
    hello.version = k_client_protocol_version;
    CHECK(round_trip(hello).version == k_client_protocol_version);

    Request command;
    command.kind = RequestKind::submit_command;
    command.words = {"sh", "-c", "echo a && echo b", ""};
    command.in_shell = true;
    command.shell = "bash";
    auto c = round_trip(command);
    CHECK(c.kind == RequestKind::submit_command);
    CHECK(c.words == command.words);
    CHECK(c.in_shell);
    CHECK(c.shell == "bash");

    Request task;
    task.kind = RequestKind::submit_task;
    task.task = "len";
    task.item = std::string("a\0b\n", 4);
    auto t = round_trip(task);
    CHECK(t.task == "len");
    CHECK(t.item == task.item);

    Request lend;
    lend.kind = RequestKind::lend;
    lend.id = 4;
    lend.item = std::string("/tmp/d/workers.sock\0/home/me", 29);
    auto l = round_trip(lend);
    CHECK(l.kind == RequestKind::lend);
    CHECK(l.id == 4);
    CHECK(l.item == lend.item);

    for (auto kind : {RequestKind::get, RequestKind::wait, RequestKind::ready, RequestKind::successful}) {
        Request q;
        q.kind = kind;
        q.id = 1234567890123ull;
        auto back = round_trip(q);
        CHECK(back.kind == kind);
        CHECK(back.id == q.id);
    }
    for (auto kind : {RequestKind::close, RequestKind::terminate, RequestKind::join, RequestKind::status}) {
        Request q;
        q.kind = kind;
        CHECK(round_trip(q).kind == kind);
    }
}

TEST_CASE("every reply round-trips") {
    Reply result;
    result.kind = ReplyKind::result;
    result.flag = true;
    result.output = std::string("out\0\xff", 5);
    result.stderr_text = "err\n";
    result.message = "why";
    auto r = round_trip(result);
    CHECK(r.flag);
    CHECK(r.output == result.output);
    CHECK(r.stderr_text == "err\n");
    CHECK(r.message == "why");

    Reply status;
    status.kind = ReplyKind::status;
    status.status = ServerStatus{4, 3, 2, 1, 5, 6, true};
    auto s = round_trip(status);
    CHECK(s.status.workers == 4);
    CHECK(s.status.queued == 3);
    CHECK(s.status.running == 2);
    CHECK(s.status.finished == 1);
    CHECK(s.status.waiting == 5);
    CHECK(s.status.lending == 6);
    CHECK(s.status.closed);

    Reply job;
    job.kind = ReplyKind::job;
    job.id = 77;
    CHECK(round_trip(job).id == 77);
    Reply error;
    error.kind = ReplyKind::error;
    error.message = "no job 9";
    CHECK(round_trip(error).message == "no job 9");
}

TEST_CASE("malformed requests are refused") {
    // An unknown kind, a stranger's hello, a short or overlong payload.
    CHECK_THROWS_AS(decode_request(99, ""), ClientProtocolError);
    CHECK_THROWS_AS(decode_request(0, ""), ClientProtocolError);
    CHECK_THROWS_AS(decode_request(1, "GET / HTTP/1.1\r\n"), ClientProtocolError);
    CHECK_THROWS_AS(decode_request(1, std::string(k_hello_magic) + "\x01"), ClientProtocolError);
    CHECK_THROWS_AS(decode_request(4, "1234567"), ClientProtocolError);
    CHECK_THROWS_AS(decode_request(4, "123456789"), ClientProtocolError);
    CHECK_THROWS_AS(decode_request(8, "x"), ClientProtocolError);
    // A command of no words, a count beyond the payload, an empty program, a flag that is not 0 or 1.
    std::string none(8, '\0');
    CHECK_THROWS_AS(decode_request(2, none + '\0' + none), ClientProtocolError);
    std::string huge("\xff\xff\xff\xff\xff\xff\xff\x7f", 8);
    CHECK_THROWS_AS(decode_request(2, huge), ClientProtocolError);
    Request command;
    command.kind = RequestKind::submit_command;
    command.words = {""};
    std::string wire;
    encode_request(wire, command);
    CHECK_THROWS_AS(decode_request(2, wire.substr(k_client_header_size)), ClientProtocolError);
    command.words = {"echo"};
    wire.clear();
    encode_request(wire, command);
    std::string payload = wire.substr(k_client_header_size);
    payload[payload.size() - 9] = 2;  // the in_shell flag
    CHECK_THROWS_AS(decode_request(2, payload), ClientProtocolError);
    // A task without a name.
    CHECK_THROWS_AS(decode_request(3, none + none), ClientProtocolError);
    // A lend of no workers, or without the directory its tasks run in.
    Request lend;
    lend.kind = RequestKind::lend;
    lend.id = 0;
    lend.item = std::string("a\0b", 3);
    wire.clear();
    encode_request(wire, lend);
    CHECK_THROWS_AS(decode_request(12, wire.substr(k_client_header_size)), ClientProtocolError);
    lend.id = 1;
    lend.item = "a";
    wire.clear();
    encode_request(wire, lend);
    CHECK_THROWS_AS(decode_request(12, wire.substr(k_client_header_size)), ClientProtocolError);
}

TEST_CASE("a frame longer than the limit is refused as soon as its header is in") {
    FrameSplitter frames(16);
    frames.buffer() = frame(4, std::string(17, 'x')).substr(0, k_client_header_size);
    CHECK_THROWS_AS(frames.next(), ClientProtocolError);
    FrameSplitter ok(16);
    ok.buffer() = frame(8, "") + frame(9, "");
    CHECK(ok.next()->kind == 8);
    CHECK(ok.next()->kind == 9);
    CHECK_FALSE(ok.next());
}
