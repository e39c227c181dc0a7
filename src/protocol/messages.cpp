#include "protocol/messages.hpp"

#include <cstdint>

namespace ppool::protocol {

namespace {

enum Flags : std::uint8_t { k_command = 1, k_has_exit = 4, k_has_signal = 8 };
constexpr std::uint8_t k_known_flags = k_command | k_has_exit | k_has_signal;

}  // namespace

void encode_run(std::string& out, std::string_view task, const std::vector<WireItem>& items) {
    // Everything copied: one piece.
    Gather gather;
    encode_run(gather, task, items, SIZE_MAX);
    out.append(gather.owned.front());
}

void encode_run(Gather& out, std::string_view task, const std::vector<WireItem>& items, std::size_t by_reference) {
    std::uint64_t length = 8 + task.size() + 8;
    for (const auto& item : items) length += 16 + item.data.size();
    auto* buffer = &out.owned.emplace_back();
    Writer w(*buffer);
    w.u8(static_cast<std::uint8_t>(FrameType::run));
    w.u64(length);
    w.bytes(task);
    w.u64(items.size());
    for (const auto& item : items) {
        w.u64(item.seq);
        w.u64(item.data.size());
        if (item.data.size() < by_reference) {
            buffer->append(item.data);
            continue;
        }
        out.pieces.push_back(*buffer);
        out.pieces.push_back(item.data);
        buffer = &out.owned.emplace_back();
        w = Writer(*buffer);
    }
    out.pieces.push_back(*buffer);
}

RunMessage decode_run(std::string_view payload) {
    Reader r(payload);
    RunMessage msg;
    msg.task = r.bytes();
    auto count = r.u64();
    // Each item takes at least 16 bytes: a count beyond that is corrupt.
    if (count > payload.size() / 16) throw ProtocolError("item count larger than the payload");
    msg.items.reserve(static_cast<std::size_t>(count));
    for (std::uint64_t i = 0; i < count; ++i) {
        WireItem item;
        item.seq = r.u64();
        item.data = r.bytes();
        msg.items.push_back(item);
    }
    if (!r.at_end()) throw ProtocolError("trailing bytes after run message");
    return msg;
}

void encode_result(std::string& out, const ResultMessage& result) {
    auto start = begin_frame(out, FrameType::result);
    Writer w(out);
    w.u64(result.seq);
    w.u8(static_cast<std::uint8_t>(result.status));
    std::uint8_t flags = 0;
    if (result.is_command) flags |= k_command;
    if (result.exit_code) flags |= k_has_exit;
    if (result.signal) flags |= k_has_signal;
    w.u8(flags);
    w.i32(result.exit_code.value_or(0));
    w.i32(result.signal.value_or(0));
    w.u64(result.duration_ns);
    w.bytes(result.output);
    w.bytes(result.stderr_text);
    w.bytes(result.error);
    finish_frame(out, start);
}

ResultMessage decode_result(std::string_view payload) {
    Reader r(payload);
    ResultMessage msg;
    msg.seq = r.u64();
    auto status = r.u8();
    if (status > static_cast<std::uint8_t>(Status::error)) throw ProtocolError("unknown status");
    msg.status = static_cast<Status>(status);
    auto flags = r.u8();
    if (flags & ~k_known_flags) throw ProtocolError("unknown result flags");
    msg.is_command = flags & k_command;
    auto exit_code = r.i32();
    auto signal = r.i32();
    if (flags & k_has_exit) msg.exit_code = exit_code;
    if (flags & k_has_signal) msg.signal = signal;
    msg.duration_ns = r.u64();
    msg.output = r.bytes();
    msg.stderr_text = r.bytes();
    msg.error = r.bytes();
    if (!r.at_end()) throw ProtocolError("trailing bytes after result message");
    return msg;
}

void encode_output_part(std::string& out, const OutputPart& part) {
    auto start = begin_frame(out, FrameType::output_part);
    Writer w(out);
    w.u64(part.seq);
    w.u8(static_cast<std::uint8_t>(part.stream));
    w.bytes(part.data);
    finish_frame(out, start);
}

OutputPart decode_output_part(std::string_view payload) {
    Reader r(payload);
    OutputPart part;
    part.seq = r.u64();
    auto stream = r.u8();
    if (stream != 1 && stream != 2) throw ProtocolError("unknown output stream");
    part.stream = static_cast<Stream>(stream);
    part.data = r.bytes();
    if (!r.at_end()) throw ProtocolError("trailing bytes after output part");
    return part;
}

void encode_ready(std::string& out) { finish_frame(out, begin_frame(out, FrameType::ready)); }

void encode_init_failed(std::string& out, std::string_view message) {
    auto start = begin_frame(out, FrameType::init_failed);
    Writer(out).bytes(message);
    finish_frame(out, start);
}

std::string_view decode_init_failed(std::string_view payload) {
    Reader r(payload);
    auto msg = r.bytes();
    if (!r.at_end()) throw ProtocolError("trailing bytes after init_failed message");
    return msg;
}

}  // namespace ppool::protocol
