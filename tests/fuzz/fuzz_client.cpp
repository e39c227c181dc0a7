// Fuzzes the client protocol of `ppool serve`: what any local process may
// send to the server. Properties: a malformed frame or payload is refused
// with ClientProtocolError, nothing else escapes; a message that decodes
// encodes back to the very bytes it came from (one spelling per message);
// read in pieces, a stream gives the frames it gives read at once.

#include "server/client_protocol.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace ppool::server;

namespace {

void require(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "property violated: %s\n", what);
    std::abort();
}

std::string framed(std::uint8_t kind, std::string_view payload) {
    std::string wire(1, static_cast<char>(kind));
    std::uint64_t n = payload.size();
    for (int i = 0; i < 8; ++i) wire.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    wire.append(payload);
    return wire;
}

/// Decodes one frame as the server (requests) or a client (replies) would.
void decode(bool replies, const FrameSplitter::Frame& frame) {
    std::string again;
    try {
        if (replies) encode_reply(again, decode_reply(frame.kind, frame.payload));
        else encode_request(again, decode_request(frame.kind, frame.payload));
    } catch (const ClientProtocolError&) {
        return;
    }
    require(again == framed(frame.kind, frame.payload), "a decoded message encodes back to other bytes");
}

/// Every frame of `input`, fed `piece` bytes at a time; the concatenated frames, as far as they went.
std::string frames_of(bool replies, std::string_view input, std::size_t piece) {
    FrameSplitter frames(replies ? k_max_reply_bytes : k_max_request_bytes);
    std::string seen;
    try {
        for (std::size_t at = 0; at < input.size(); at += piece) {
            frames.buffer().append(input.substr(at, piece));
            while (auto frame = frames.next()) {
                seen += framed(frame->kind, frame->payload);
                decode(replies, *frame);
            }
        }
    } catch (const ClientProtocolError&) {
        seen += "<refused>";
    }
    return seen;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    bool replies = data[0] & 1;
    std::size_t piece = (data[1] % 32) + 1;
    std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);
    auto whole = frames_of(replies, input, input.size() + 1);
    require(frames_of(replies, input, piece) == whole, "the frames depend on the read boundaries");
    return 0;
}
