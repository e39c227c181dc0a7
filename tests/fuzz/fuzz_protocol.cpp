// Fuzzes the frame reader and the message decoders with arbitrary bytes.
// Properties: ProtocolError is the only exception; read boundaries change
// nothing; a decoded run, results, init_failed, output_part, configure,
// hello or file message re-encodes to the same bytes (a run's bytes between items
// aside), and decodes again to the same values.

#include "protocol/messages.hpp"
#include "protocol/mux.hpp"
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
/// byte, but for the bytes between items (not part of any), and decode to
/// the same task and items.
void check_run_round_trip(std::string_view payload, const RunMessage& run) {
    RunIndex index;
    std::string items;
    for (const auto& item : run.items) {
        index.add(item.seq, item.data.size());
        items.append(item.data);
        items.push_back('\n');
    }
    Gather gather;
    encode_run(gather, run.task, index, items, run.timeout_ns);
    std::string wire;
    for (auto piece : gather.pieces) wire.append(piece);
    require(wire.size() == k_header_size + payload.size(), "run frame length");
    auto again = decode_run(std::string_view(wire).substr(k_header_size));
    require(again.task == run.task, "run task round-trips");
    require(again.timeout_ns == run.timeout_ns, "run limit round-trips");
    require(again.items.size() == run.items.size(), "run item count round-trips");
    for (std::size_t i = 0; i < run.items.size(); ++i) {
        require(again.items[i].seq == run.items[i].seq, "run item seq round-trips");
        require(again.items[i].data == run.items[i].data, "run item data round-trips");
    }
    // The head and index (everything before the items) are canonical, and so
    // is the limit after them.
    auto tail = run.timeout_ns ? std::size_t{8} : std::size_t{0};
    auto head = wire.size() - k_header_size - items.size() - tail;
    require(std::string_view(wire).substr(wire.size() - tail) == payload.substr(payload.size() - tail),
            "run limit re-encodes to the same bytes");
    require(std::string_view(wire).substr(k_header_size, head) == payload.substr(0, head),
            "run index re-encodes to the same bytes");
}

/// A results message whose entries all read re-encodes to the same bytes.
void check_results_round_trip(std::string_view payload, const ResultsMessage& msg) {
    EntryReader reader(msg);
    std::string meta, durations;
    std::uint64_t output = 0, extra = 0;
    for (std::uint64_t i = 0; i < msg.count; ++i) {
        EntryMeta e;
        std::size_t output_at = 0, extra_at = 0;
        reader.next(e, output_at, extra_at);
        require(output_at == output && extra_at == extra, "entries lie back to back");
        output += e.output_size;
        extra += e.stderr_size + e.error_size + e.error_type_size;
        append_entry(meta, e);
        append_varint(durations, e.duration_ns);
    }
    reader.finish();
    std::string wire;
    encode_results(wire, ResultsMessage{msg.count, msg.running_ns, meta, durations, msg.text, msg.extra});
    require(std::string_view(wire).substr(k_header_size) == payload, "results re-encode to the same bytes");
}

void check_output_part_round_trip(std::string_view payload, const OutputPart& part) {
    std::string wire;
    encode_output_part(wire, part);
    require(std::string_view(wire).substr(k_header_size) == payload, "output_part re-encodes to the same bytes");
}

void check_live_output_round_trip(std::string_view payload, const OutputPart& part) {
    std::string wire;
    encode_live_output(wire, part);
    require(std::string_view(wire).substr(k_header_size) == payload, "live_output re-encodes to the same bytes");
}

void check_file_part_round_trip(std::string_view payload, const FilePart& part) {
    std::string wire;
    encode_file_part(wire, part);
    require(std::string_view(wire).substr(k_header_size) == payload, "file part re-encodes to the same bytes");
    auto again = decode_file_part(std::string_view(wire).substr(k_header_size));
    require(again.seq == part.seq && again.first == part.first && again.last == part.last &&
                again.failed == part.failed && again.mode == part.mode && again.path == part.path &&
                again.data == part.data,
            "file part decodes again to the same values");
}

void check_init_failed_round_trip(std::string_view payload, std::string_view message) {
    std::string wire;
    encode_init_failed(wire, message);
    require(std::string_view(wire).substr(k_header_size) == payload, "init_failed re-encodes to the same bytes");
}

/// A task message re-encodes to the same bytes.
void check_task_round_trip(std::string_view payload, const CommandTaskSpec& spec) {
    std::string wire;
    encode_task(wire, spec);
    require(std::string_view(wire).substr(k_header_size) == payload, "a task message re-encodes to the same bytes");
}

/// A configure or hello message of this version re-encodes to the same bytes.
template <class Message, class Encode>
void check_session_round_trip(std::string_view payload, const Message& msg, Encode encode) {
    if (msg.version != k_protocol_version) return;
    std::string wire;
    encode(wire, msg);
    require(std::string_view(wire).substr(k_header_size) == payload, "a session message re-encodes to the same bytes");
}

/// Decodes one frame by its type; a ProtocolError means a corrupt payload,
/// which is fine, anything else escapes and is a crash.
void decode_frame(FrameType type, std::string_view payload) {
    try {
        switch (type) {
        case FrameType::run: check_run_round_trip(payload, decode_run(payload)); break;
        case FrameType::results: check_results_round_trip(payload, decode_results(payload)); break;
        case FrameType::init_failed: check_init_failed_round_trip(payload, decode_init_failed(payload)); break;
        case FrameType::output_part: check_output_part_round_trip(payload, decode_output_part(payload)); break;
        case FrameType::file: check_file_part_round_trip(payload, decode_file_part(payload)); break;
        case FrameType::live_output: check_live_output_round_trip(payload, decode_live_output(payload)); break;
        case FrameType::ready: break;
        case FrameType::configure:
            check_session_round_trip(payload, decode_configure(payload),
                                     [](std::string& out, const ConfigureMessage& m) { encode_configure(out, m); });
            break;
        case FrameType::task: check_task_round_trip(payload, decode_task(payload)); break;
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

/// The same bytes as a hub's channel (protocol/mux.hpp): ProtocolError is
/// the only exception, read boundaries change nothing, and every frame
/// re-encodes to the bytes it came from.
void read_mux_frames(std::string_view input) {
    auto pass = [&](std::size_t piece) {
        mux::Reader reader;
        std::string frames;
        bool threw = false;
        try {
            for (std::size_t at = 0; at < input.size(); at += piece) {
                reader.buffer().append(input.substr(at, piece));
                while (auto f = reader.next()) {
                    mux::append(frames, f->kind, f->id, f->payload);
                    if (f->kind == mux::Kind::ended) {
                        try {
                            mux::decode_ended(f->payload);
                        } catch (const ProtocolError&) {
                        }
                    }
                }
            }
        } catch (const ProtocolError&) {
            threw = true;
        }
        return std::make_pair(frames, threw);
    };
    auto whole = pass(input.size() + 1);
    auto bytewise = pass(1);
    require(whole == bytewise, "read boundaries do not change the hub's frames");
    require(input.substr(0, whole.first.size()) == whole.first, "hub frames re-encode to their bytes");
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);

    auto whole = read_frames(input, {});
    auto pieces = read_frames(input, piece_sizes(input));
    require(whole.frames == pieces.frames, "read boundaries do not change the frames");
    require(whole.threw == pieces.threw, "read boundaries do not change the error");
    require(whole.threw || whole.pending == pieces.pending, "read boundaries do not change what is pending");

    for (const auto& [type, payload] : whole.frames) decode_frame(type, payload);
    read_mux_frames(input);
    return 0;
}
