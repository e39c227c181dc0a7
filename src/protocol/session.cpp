#include "protocol/session.hpp"

#include "protocol/frame.hpp"

namespace ppool::protocol {

namespace {

void write_strings(Writer& w, const std::vector<std::string>& strings) {
    w.u64(strings.size());
    for (const auto& s : strings) w.bytes(s);
}

std::vector<std::string> read_strings(Reader& r, std::size_t payload_size) {
    auto count = r.u64();
    // Each string takes at least its 8-byte length.
    if (count > payload_size / 8) throw ProtocolError("string count larger than the payload");
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(count));
    for (std::uint64_t i = 0; i < count; ++i) out.emplace_back(r.bytes());
    return out;
}

void write_command(Writer& w, const CommandTaskSpec& c) {
    w.bytes(c.name);
    write_strings(w, c.words);
    w.u8(static_cast<std::uint8_t>((c.append_item ? 1 : 0) | (c.item_on_stdin ? 2 : 0) | (c.item_is_args ? 4 : 0) |
                                   (c.context_replace ? 8 : 0) | (c.replace.empty() ? 0 : 16) |
                                   (c.stdin_file.empty() ? 0 : 32) | (c.in_shell ? 64 : 0) |
                                   (c.shell.empty() ? 0 : 128)));
    if (!c.replace.empty()) w.bytes(c.replace);
    if (!c.stdin_file.empty()) w.bytes(c.stdin_file);
    if (!c.shell.empty()) w.bytes(c.shell);
}

CommandTaskSpec read_command(Reader& r, std::size_t payload_size) {
    CommandTaskSpec c;
    c.name = r.bytes();
    c.words = read_strings(r, payload_size);
    auto flags = r.u8();
    c.append_item = flags & 1;
    c.item_on_stdin = flags & 2;
    c.item_is_args = flags & 4;
    c.context_replace = flags & 8;
    if (flags & 16) {
        c.replace = r.bytes();
        if (c.replace.empty()) throw ProtocolError("empty replacement string");
    }
    if (flags & 32) {
        c.stdin_file = r.bytes();
        if (c.stdin_file.empty()) throw ProtocolError("empty --pipepart file name");
    }
    c.in_shell = flags & 64;
    if (flags & 128) {
        c.shell = r.bytes();
        if (c.shell.empty()) throw ProtocolError("empty shell name");
    }
    return c;
}

}  // namespace

void encode_configure(std::string& out, const ConfigureMessage& msg) {
    auto start = begin_frame(out, FrameType::configure);
    Writer w(out);
    w.u32(msg.version);
    w.i32(msg.slot);
    write_strings(w, msg.plugins);
    w.u64(msg.commands.size());
    for (const auto& c : msg.commands) write_command(w, c);
    w.bytes(msg.initializer);
    w.bytes(msg.initargs);
    w.bytes(msg.initializer_command);
    w.u8(msg.task_timeout_ns ? 1 : 0);
    w.u64(msg.task_timeout_ns.value_or(0));
    w.u64(msg.kill_grace_ns);
    write_strings(w, msg.returns);
    w.u8(msg.cleanup ? 1 : 0);
    w.u8(msg.live_output ? 1 : 0);
    w.bytes(msg.shell);
    write_strings(w, msg.environment);
    finish_frame(out, start);
}

ConfigureMessage decode_configure(std::string_view payload) {
    Reader r(payload);
    ConfigureMessage msg;
    msg.version = r.u32();
    if (msg.version != k_protocol_version) return msg;
    msg.slot = r.i32();
    msg.plugins = read_strings(r, payload.size());
    auto count = r.u64();
    if (count > payload.size() / 17) throw ProtocolError("command count larger than the payload");
    for (std::uint64_t i = 0; i < count; ++i) msg.commands.push_back(read_command(r, payload.size()));
    msg.initializer = r.bytes();
    msg.initargs = r.bytes();
    msg.initializer_command = r.bytes();
    // One spelling for each message: a flag is 0 or 1, and no timeout is 0.
    auto has_timeout = r.u8();
    auto timeout = r.u64();
    if (has_timeout > 1 || (!has_timeout && timeout != 0)) throw ProtocolError("malformed timeout");
    if (has_timeout) msg.task_timeout_ns = timeout;
    msg.kill_grace_ns = r.u64();
    msg.returns = read_strings(r, payload.size());
    auto cleanup = r.u8();
    if (cleanup > 1) throw ProtocolError("malformed cleanup flag");
    msg.cleanup = cleanup == 1;
    auto live = r.u8();
    if (live > 1) throw ProtocolError("malformed live output flag");
    msg.live_output = live == 1;
    msg.shell = r.bytes();
    msg.environment = read_strings(r, payload.size());
    for (const auto& variable : msg.environment)
        if (variable.find('=') == std::string::npos || variable.front() == '=')
            throw ProtocolError("malformed environment variable");
    if (!r.at_end()) throw ProtocolError("trailing bytes after configure message");
    return msg;
}

void encode_task(std::string& out, const CommandTaskSpec& spec) {
    auto start = begin_frame(out, FrameType::task);
    Writer w(out);
    write_command(w, spec);
    finish_frame(out, start);
}

CommandTaskSpec decode_task(std::string_view payload) {
    Reader r(payload);
    auto spec = read_command(r, payload.size());
    if (spec.name.empty()) throw ProtocolError("a task without a name");
    if (spec.words.empty()) throw ProtocolError("a command task without words");
    if (!r.at_end()) throw ProtocolError("trailing bytes after task message");
    return spec;
}

void encode_hello(std::string& out, const HelloMessage& msg) {
    auto start = begin_frame(out, FrameType::hello);
    Writer w(out);
    w.u32(msg.version);
    w.bytes(msg.host);
    w.u32(msg.cpus);
    write_strings(w, msg.tasks);
    w.bytes(msg.error);
    finish_frame(out, start);
}

HelloMessage decode_hello(std::string_view payload) {
    Reader r(payload);
    HelloMessage msg;
    msg.version = r.u32();
    if (msg.version != k_protocol_version) return msg;
    msg.host = r.bytes();
    msg.cpus = r.u32();
    msg.tasks = read_strings(r, payload.size());
    msg.error = r.bytes();
    if (!r.at_end()) throw ProtocolError("trailing bytes after hello message");
    return msg;
}

}  // namespace ppool::protocol
