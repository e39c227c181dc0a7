#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "ppool/result.hpp"
#include "protocol/frame.hpp"

namespace ppool::protocol {

/// One item of a chunk.
struct WireItem {
    std::uint64_t seq = 0;
    std::string_view data;
};

/// A chunk of items for one task (parent to worker).
struct RunMessage {
    std::string_view task;
    std::vector<WireItem> items;
};

/// What a worker reports of one finished item; the parent adds input and slot.
/// A timeout is `status` Status::timeout: there is no flag to disagree with it.
struct ResultMessage {
    std::uint64_t seq = 0;
    Status status = Status::error;
    bool is_command = false;
    std::optional<int> exit_code;
    std::optional<int> signal;
    std::uint64_t duration_ns = 0;
    std::string_view output;
    std::string_view stderr_text;
    std::string_view error;
};

void encode_run(std::string& out, std::string_view task, const std::vector<WireItem>& items);

/// A frame in pieces: the small fields in buffers it owns, large item data
/// by reference (which must outlive the sending), so a huge item is never copied.
struct Gather {
    std::deque<std::string> owned;
    std::vector<std::string_view> pieces;
};

/// encode_run into pieces; items of at least `by_reference` bytes are not copied.
void encode_run(Gather& out, std::string_view task, const std::vector<WireItem>& items,
                std::size_t by_reference = 1 << 16);
RunMessage decode_run(std::string_view payload);

void encode_result(std::string& out, const ResultMessage& result);
ResultMessage decode_result(std::string_view payload);


/// Which stream an output part belongs to.
enum class Stream : std::uint8_t { out = 1, err = 2 };

/// A piece of a large output of item `seq`, sent before its result so that
/// neither side holds the whole of it.
struct OutputPart {
    std::uint64_t seq = 0;
    Stream stream = Stream::out;
    std::string_view data;
};
void encode_output_part(std::string& out, const OutputPart& part);
OutputPart decode_output_part(std::string_view payload);

void encode_ready(std::string& out);
void encode_init_failed(std::string& out, std::string_view message);
std::string_view decode_init_failed(std::string_view payload);

}  // namespace ppool::protocol
