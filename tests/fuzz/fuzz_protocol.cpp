// Fuzzes the frame reader and the message decoders with arbitrary bytes.
// Properties: ProtocolError is the only exception; read boundaries change
// nothing; a decoded run, init_failed or output_part message re-encodes to the
// same bytes, and a run or result decodes again to the same values (a
// result's flags byte also to the same byte).

#include "ppool/result_run.hpp"
#include "protocol/messages.hpp"
#include "protocol/packed.hpp"
#include "protocol/session.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

using namespace ppool::protocol;

namespace {

/// Aborts with `what` unless `ok`, so libFuzzer records the input.
void require(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "property violated: %s\n", what);
    std::abort();
}

/// What one pass over the input saw: the frames, copied, and how it ended.
struct Pass {
    std::vector<std::pair<FrameType, std::string>> frames;
    bool threw = false;
    std::size_t pending = 0;
};

/// Feeds `input` to a FrameReader in pieces of the given sizes (the rest at
/// once when they run out) and collects every frame until the first error.
Pass read_frames(std::string_view input, const std::vector<std::size_t>& pieces) {
    Pass pass;
    FrameReader reader;
    std::size_t at = 0;
    std::size_t piece = 0;
    try {
        while (at < input.size()) {
            std::size_t n = piece < pieces.size() ? pieces[piece++] : input.size() - at;
            reader.buffer().append(input.substr(at, n));
            at += std::min(n, input.size() - at);
            while (auto frame = reader.next()) pass.frames.emplace_back(frame->type, std::string(frame->payload));
        }
    } catch (const ProtocolError&) {
        pass.threw = true;
    }
    pass.pending = reader.pending();
    return pass;
}

/// Re-encodes a decoded run message: the payload must come back byte for
/// byte (the encoding is canonical) and decode to the same task and items.
void check_run_round_trip(std::string_view payload, const RunMessage& run) {
    std::string wire;
    encode_run(wire, run.task, run.items);
    require(wire.size() == k_header_size + payload.size(), "run frame length");
    require(std::string_view(wire).substr(k_header_size) == payload, "run payload re-encodes to the same bytes");

    FrameReader reader;
    reader.buffer() = wire;
    auto frame = reader.next();
    require(frame && frame->type == FrameType::run, "re-encoded run frame is read back");
    auto again = decode_run(frame->payload);
    require(again.task == run.task, "run task round-trips");
    require(again.items.size() == run.items.size(), "run item count round-trips");
    for (std::size_t i = 0; i < run.items.size(); ++i) {
        require(again.items[i].seq == run.items[i].seq, "run item seq round-trips");
        require(again.items[i].data == run.items[i].data, "run item data round-trips");
    }
    require(!reader.next() && reader.pending() == 0, "nothing after the re-encoded run frame");
}

/// Absent codes still take room on the wire, so a result need not re-encode
/// to the same bytes; its decoded values must survive, and its flags byte too
/// (the decoder accepts no flag without a meaning).
void check_result_round_trip(std::string_view payload, const ResultMessage& result) {
    std::string wire;
    encode_result(wire, result);
    auto again = decode_result(std::string_view(wire).substr(k_header_size));
    require(again.seq == result.seq && again.status == result.status, "result seq and status round-trip");
    require(again.is_command == result.is_command, "result flags round-trip");
    // After the seq and the status.
    constexpr std::size_t k_flags_at = 9;
    require(wire[k_header_size + k_flags_at] == payload[k_flags_at], "result flags re-encode to the same byte");
    require(again.exit_code == result.exit_code && again.signal == result.signal, "result codes round-trip");
    require(again.duration_ns == result.duration_ns, "result duration round-trips");
    require(again.output == result.output && again.stderr_text == result.stderr_text && again.error == result.error,
            "result texts round-trip");
}

void check_output_part_round_trip(std::string_view payload, const OutputPart& part) {
    std::string wire;
    encode_output_part(wire, part);
    require(std::string_view(wire).substr(k_header_size) == payload, "output_part re-encodes to the same bytes");
}

void check_init_failed_round_trip(std::string_view payload, std::string_view message) {
    std::string wire;
    encode_init_failed(wire, message);
    require(std::string_view(wire).substr(k_header_size) == payload, "init_failed re-encodes to the same bytes");
}

/// A configure or hello message of this version re-encodes to the same bytes.
template <class Message, class Encode>
void check_session_round_trip(std::string_view payload, const Message& msg, Encode encode) {
    if (msg.version != k_protocol_version) return;
    std::string wire;
    encode(wire, msg);
    require(std::string_view(wire).substr(k_header_size) == payload, "a session message re-encodes to the same bytes");
}

/// A run result's parts, if they agree, unpack into exactly `count` results.
void check_run_result(const RunResultMessage& msg) {
    if (msg.count > 1'000'000) return;
    std::string inputs(static_cast<std::size_t>(msg.count), '\n');
    if (!ppool::ResultRun::consistent(msg.count, '\n', inputs, msg.meta, msg.text)) return;
    ppool::ResultRun run(msg.first_seq, msg.count, 0, '\n', inputs, std::string(msg.meta), std::string(msg.text));
    std::size_t printed = 0;
    while (!run.empty()) printed += run.pop().output.size();
    require(printed <= msg.text.size(), "a run's outputs lie within its text");
}

/// Decodes one frame by its type; a ProtocolError means a corrupt payload,
/// which is fine, anything else escapes and is a crash.
void decode_frame(FrameType type, std::string_view payload) {
    try {
        switch (type) {
        case FrameType::run: check_run_round_trip(payload, decode_run(payload)); break;
        case FrameType::result: check_result_round_trip(payload, decode_result(payload)); break;
        case FrameType::init_failed: check_init_failed_round_trip(payload, decode_init_failed(payload)); break;
        case FrameType::output_part: check_output_part_round_trip(payload, decode_output_part(payload)); break;
        case FrameType::ready: break;
        case FrameType::packed_run: decode_packed_run(payload); break;
        case FrameType::run_result: check_run_result(decode_run_result(payload)); break;
        case FrameType::configure:
            check_session_round_trip(payload, decode_configure(payload),
                                     [](std::string& out, const ConfigureMessage& m) { encode_configure(out, m); });
            break;
        case FrameType::hello:
            check_session_round_trip(payload, decode_hello(payload),
                                     [](std::string& out, const HelloMessage& m) { encode_hello(out, m); });
            break;
        }
    } catch (const ProtocolError&) {
    }
}

/// Piece sizes 1..32 taken from the input's own bytes, so the split varies
/// with the input but is the same on every replay.
std::vector<std::size_t> piece_sizes(std::string_view input) {
    std::vector<std::size_t> sizes;
    std::size_t covered = 0;
    for (std::size_t i = 0; covered < input.size(); ++i) {
        auto n = 1 + static_cast<unsigned char>(input[i % input.size()] ^ static_cast<unsigned char>(i)) % 32;
        sizes.push_back(n);
        covered += n;
    }
    return sizes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);

    auto whole = read_frames(input, {});
    auto pieces = read_frames(input, piece_sizes(input));
    require(whole.frames == pieces.frames, "read boundaries do not change the frames");
    require(whole.threw == pieces.threw, "read boundaries do not change the error");
    require(whole.threw || whole.pending == pieces.pending, "read boundaries do not change what is pending");

    for (const auto& [type, payload] : whole.frames) decode_frame(type, payload);
    return 0;
}
