#include "protocol/packed.hpp"

#include <algorithm>

namespace ppool::protocol {

void encode_packed_run(Gather& out, const PackedRunMessage& msg) {
    auto& head = out.owned.emplace_back();
    Writer w(head);
    w.u8(static_cast<std::uint8_t>(FrameType::packed_run));
    w.u64(8 + msg.task.size() + 1 + 8 + 8 + 8 + msg.items.size());
    w.bytes(msg.task);
    w.u8(static_cast<std::uint8_t>(msg.separator));
    w.u64(msg.first_seq);
    w.u64(msg.count);
    w.u64(msg.items.size());
    out.pieces.push_back(head);
    if (!msg.items.empty()) out.pieces.push_back(msg.items);
}

PackedRunMessage decode_packed_run(std::string_view payload) {
    Reader r(payload);
    PackedRunMessage msg;
    msg.task = r.bytes();
    msg.separator = static_cast<char>(r.u8());
    msg.first_seq = r.u64();
    msg.count = r.u64();
    msg.items = r.bytes();
    if (!r.at_end()) throw ProtocolError("trailing bytes after packed run message");
    // The worker splits at separators: they must be exactly the items.
    auto separators = static_cast<std::uint64_t>(std::count(msg.items.begin(), msg.items.end(), msg.separator));
    if (separators != msg.count || (!msg.items.empty() && msg.items.back() != msg.separator))
        throw ProtocolError("packed run items do not match their count");
    return msg;
}

void encode_run_result(std::string& out, const RunResultMessage& msg) {
    auto start = begin_frame(out, FrameType::run_result);
    Writer w(out);
    w.u64(msg.first_seq);
    w.u64(msg.count);
    w.u64(msg.input_bytes);
    w.bytes(msg.meta);
    w.bytes(msg.text);
    finish_frame(out, start);
}

RunResultMessage decode_run_result(std::string_view payload) {
    Reader r(payload);
    RunResultMessage msg;
    msg.first_seq = r.u64();
    msg.count = r.u64();
    msg.input_bytes = r.u64();
    msg.meta = r.bytes();
    msg.text = r.bytes();
    if (!r.at_end()) throw ProtocolError("trailing bytes after run result message");
    if (msg.count == 0) throw ProtocolError("empty run result");
    return msg;
}

}  // namespace ppool::protocol
