#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/frame.hpp"
#include "protocol/messages.hpp"

namespace ppool::protocol {

/// Consecutive items of a registered task as one buffer, each item followed
/// by `separator` (parent to worker). The worker answers with run_result
/// frames for the items that succeeded and result frames for the others.
struct PackedRunMessage {
    std::string_view task;
    char separator = '\n';
    std::uint64_t first_seq = 0;
    std::uint64_t count = 0;
    std::string_view items;  ///< `count` items, each ending with `separator`
};

/// The frame in pieces; the item bytes are sent by reference (they must outlive the sending).
void encode_packed_run(Gather& out, const PackedRunMessage& msg);
/// Throws ProtocolError unless the items are `count` separator-terminated items.
PackedRunMessage decode_packed_run(std::string_view payload);

/// Consecutive items that all succeeded, in compact form (worker to parent).
/// `meta` holds per item two varints, (output size << 1 | newline added) and
/// the duration in ns; `text` the outputs concatenated, each ending with a
/// newline (added when the task's own result had none), as text output prints them.
struct RunResultMessage {
    std::uint64_t first_seq = 0;
    std::uint64_t count = 0;
    std::uint64_t input_bytes = 0;  ///< bytes of the run's items in the packed run, separators included
    std::string_view meta;
    std::string_view text;
};

void encode_run_result(std::string& out, const RunResultMessage& msg);
/// Checks the framing only; the run's meta is checked where it is unpacked.
RunResultMessage decode_run_result(std::string_view payload);

/// Appends `v` in 7-bit groups, low first.
inline void append_varint(std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<char>(v | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}

/// Reads a varint from the front of `in`; false if it is cut short or too long.
inline bool read_varint(std::string_view& in, std::uint64_t& v) {
    v = 0;
    for (unsigned shift = 0; shift < 64 && !in.empty(); shift += 7) {
        auto byte = static_cast<std::uint8_t>(in.front());
        in.remove_prefix(1);
        v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
        if (!(byte & 0x80)) return true;
    }
    return false;
}

}  // namespace ppool::protocol
