#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/frame.hpp"

/// The hub's channel: many workers' channels over one byte stream (one
/// `srun` per node carries every slot of the node). Each mux frame is a
/// 9-byte header (kind, the worker's id, the payload length, little-endian)
/// and the payload; a worker's own frames travel inside `data` payloads,
/// cut wherever the reads happened to end.
namespace ppool::protocol::mux {

enum class Kind : std::uint8_t {
    hello = 1,  ///< hub to pool, first: the hub's mux version (u32)
    open = 2,   ///< pool to hub: start worker `id`
    data = 3,   ///< either way: bytes of worker `id`'s channel
    shut = 4,   ///< pool to hub: no more bytes for worker `id` (it exits once idle)
    kill = 5,   ///< pool to hub: kill worker `id` (and what its group holds) now
    ended = 6,  ///< hub to pool: worker `id` ended, all its bytes sent; payload: exit code (i32), signal (i32)
    /// Pool to hub, the answer to its hello: connect to the pool's host (the
    /// address srun names, SLURM_LAUNCH_NODE_IPADDR) at this port (u32) and
    /// show this token (k_token_size bytes); the channel then moves there.
    connect = 7,
    /// Hub to pool: it could not connect (payload: why); the channel stays.
    unconnected = 8,
};

/// Bytes of the token a hub shows on the connection it makes; the pool
/// answers it with one byte, after which that connection is the channel.
inline constexpr std::size_t k_token_size = 16;

inline constexpr std::uint32_t k_version = 1;
inline constexpr std::size_t k_header_size = 9;
/// The longest payload a reader accepts: writers cut data far smaller.
inline constexpr std::size_t k_max_payload = 1 << 20;

/// Appends one frame.
void append(std::string& out, Kind kind, std::uint32_t id, std::string_view payload = {});
/// Appends the hub's `hello` frame.
void append_hello(std::string& out);
/// The version a `hello` payload names; throws ProtocolError.
std::uint32_t decode_hello(std::string_view payload);
/// Appends a `connect` frame.
void append_connect(std::string& out, std::uint16_t port, std::string_view token);
/// The port and token of a `connect` payload; throws ProtocolError.
std::pair<std::uint16_t, std::string> decode_connect(std::string_view payload);
/// Appends an `ended` frame.
void append_ended(std::string& out, std::uint32_t id, int exit_code, int signal);

struct Frame {
    Kind kind;
    std::uint32_t id;
    std::string_view payload;  ///< into the reader's buffer, until its next call
};

/// Splits a byte stream into mux frames. Throws ProtocolError for an unknown
/// kind or a payload longer than k_max_payload, as soon as the header is in.
class Reader {
public:
    std::string& buffer() { return m_buffer; }
    std::optional<Frame> next();

private:
    std::string m_buffer;
    std::size_t m_offset = 0;
};

/// The exit code and signal of an `ended` payload; throws ProtocolError.
std::pair<int, int> decode_ended(std::string_view payload);

}  // namespace ppool::protocol::mux
