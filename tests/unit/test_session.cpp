// The start of a worker's conversation: configure and hello, and the
// version check both sides make.
#include <doctest/doctest.h>

#include "protocol/frame.hpp"
#include "protocol/session.hpp"

using namespace ppool::protocol;

namespace {

std::string payload_of(const std::string& wire, FrameType expected) {
    FrameReader reader;
    reader.buffer() = wire;
    auto frame = reader.next();
    REQUIRE(frame);
    CHECK(frame->type == expected);
    return std::string(frame->payload);
}

}  // namespace

TEST_CASE("configure carries everything a worker needs") {
    ConfigureMessage msg;
    msg.slot = 7;
    msg.plugins = {"./libtasks.so", "/opt/x.so"};
    msg.commands = {CommandTaskSpec{"cmd", {"sh", "-c", "echo {} | wc"}, false, true},
                    CommandTaskSpec{"script", {"echo", "{}", ">", "out"}, true, false, false, false, "", "", true,
                                    "bash"}};
    msg.initializer = "load";
    msg.initargs = "table.csv";
    msg.initializer_command = "mkdir -p /tmp/w-$PPOOL_WORKER";
    msg.task_timeout_ns = 1500000000;
    msg.kill_grace_ns = 2000000000;
    msg.shell = "/bin/zsh";
    msg.environment = {"X=1", "BASH_FUNC_f%%=() {  echo f\n}"};
    std::string wire;
    encode_configure(wire, msg);
    auto back = decode_configure(payload_of(wire, FrameType::configure));
    CHECK(back.version == k_protocol_version);
    CHECK(back.slot == 7);
    CHECK(back.plugins == msg.plugins);
    REQUIRE(back.commands.size() == 2);
    CHECK_FALSE(back.commands[0].in_shell);
    CHECK(back.commands[0].shell.empty());
    CHECK(back.commands[1].in_shell);
    CHECK(back.commands[1].shell == "bash");
    CHECK(back.shell == "/bin/zsh");
    CHECK(back.environment == msg.environment);
    CHECK(back.commands[0].name == "cmd");
    CHECK(back.commands[0].words == msg.commands[0].words);
    CHECK_FALSE(back.commands[0].append_item);
    CHECK(back.commands[0].item_on_stdin);
    CHECK(back.initializer == "load");
    CHECK(back.initargs == "table.csv");
    CHECK(back.initializer_command == msg.initializer_command);
    CHECK(back.task_timeout_ns == msg.task_timeout_ns);
    CHECK(back.kill_grace_ns == 2000000000);
    CHECK(back.returns.empty());
    CHECK_FALSE(back.cleanup);

    msg.returns = {"{}.out", "{.}.gz"};
    msg.cleanup = true;
    wire.clear();
    encode_configure(wire, msg);
    back = decode_configure(payload_of(wire, FrameType::configure));
    CHECK(back.returns == msg.returns);
    CHECK(back.cleanup);
    CHECK_FALSE(back.live_output);

    msg.live_output = true;
    wire.clear();
    encode_configure(wire, msg);
    CHECK(decode_configure(payload_of(wire, FrameType::configure)).live_output);

    msg.task_timeout_ns.reset();
    wire.clear();
    encode_configure(wire, msg);
    CHECK_FALSE(decode_configure(payload_of(wire, FrameType::configure)).task_timeout_ns);
}

TEST_CASE("hello says who the worker is and what it can run") {
    std::string wire;
    encode_hello(wire, HelloMessage{k_protocol_version, "node1", 4, {"identity", "len"}, ""});
    auto back = decode_hello(payload_of(wire, FrameType::hello));
    CHECK(back.host == "node1");
    CHECK(back.cpus == 4);
    CHECK(back.tasks == std::vector<std::string>{"identity", "len"});
    CHECK(back.error.empty());
}

TEST_CASE("another protocol version decodes as far as its version") {
    std::string payload;
    Writer w(payload);
    w.u32(k_protocol_version + 1);
    w.bytes("whatever a later version sends");
    CHECK(decode_configure(payload).version == k_protocol_version + 1);
    CHECK(decode_hello(payload).version == k_protocol_version + 1);
}

TEST_CASE("corrupt session messages are rejected") {
    std::string wire;
    encode_configure(wire, ConfigureMessage{});
    auto payload = payload_of(wire, FrameType::configure);
    CHECK_THROWS_AS(decode_configure(payload.substr(0, payload.size() - 1)), ProtocolError);
    CHECK_THROWS_AS(decode_configure(payload + "x"), ProtocolError);
    std::string lying;
    Writer w(lying);
    w.u32(k_protocol_version);
    w.i32(0);
    w.u64(1'000'000);  // plugins claimed
    CHECK_THROWS_AS(decode_configure(lying), ProtocolError);
}

TEST_CASE("each configure message has one spelling") {
    ConfigureMessage msg;
    msg.commands = {CommandTaskSpec{"cmd", {"echo"}, true, false}};
    std::string wire;
    encode_configure(wire, msg);
    auto payload = payload_of(wire, FrameType::configure);
    // The command's flags byte, then the timeout's flag and value come before
    // the grace period, the returned files (none), the cleanup and live
    // output flags, the shell (empty) and the environment (none).
    auto flags_at = payload.find("echo") + 4;
    auto live_at = payload.size() - 8 - 8 - 1;
    auto cleanup_at = live_at - 1;
    auto timeout_at = cleanup_at - 8 - 8 - 8 - 1;
    auto with = [&](std::size_t at, char byte) {
        auto p = payload;
        p[at] = byte;
        return p;
    };
    CHECK_NOTHROW(decode_configure(payload));
    // The shell's name is there only when its flag says so.
    CHECK_THROWS_AS(decode_configure(with(flags_at, static_cast<char>(128))), ProtocolError);
    CHECK_THROWS_AS(decode_configure(with(flags_at, 32)), ProtocolError);
    // -I's replacement string is there only when its flag says so.
    CHECK_THROWS_AS(decode_configure(with(flags_at, 16)), ProtocolError);
    CHECK_THROWS_AS(decode_configure(with(timeout_at, 2)), ProtocolError);
    CHECK_THROWS_AS(decode_configure(with(timeout_at + 1, 1)), ProtocolError);
    CHECK_THROWS_AS(decode_configure(with(cleanup_at, 2)), ProtocolError);
    CHECK_THROWS_AS(decode_configure(with(live_at, 2)), ProtocolError);
    CHECK_THROWS_AS(decode_configure(with(payload.size() - 8, 1)), ProtocolError);
}

TEST_CASE("the pool's reader refuses frames only workers get") {
    FrameReader reader(FrameReader::k_from_worker);
    encode_configure(reader.buffer(), ConfigureMessage{});
    CHECK_THROWS_AS(reader.next(), ProtocolError);
}

TEST_CASE("a task frame tells a running worker a command it does not know") {
    CommandTaskSpec spec{"serve-command-1", {"sh", "-c", "echo {}"}, false, false, false, false, "", "", true, "bash"};
    std::string wire;
    encode_task(wire, spec);
    auto back = decode_task(payload_of(wire, FrameType::task));
    CHECK(back.name == spec.name);
    CHECK(back.words == spec.words);
    CHECK_FALSE(back.append_item);
    CHECK(back.in_shell);
    CHECK(back.shell == "bash");
    // No name, no words, or bytes after it: refused.
    std::string nameless;
    encode_task(nameless, CommandTaskSpec{"", {"echo"}});
    CHECK_THROWS_AS(decode_task(payload_of(nameless, FrameType::task)), ProtocolError);
    std::string wordless;
    encode_task(wordless, CommandTaskSpec{"t", {}});
    CHECK_THROWS_AS(decode_task(payload_of(wordless, FrameType::task)), ProtocolError);
    CHECK_THROWS_AS(decode_task(payload_of(wire, FrameType::task) + "x"), ProtocolError);
}
