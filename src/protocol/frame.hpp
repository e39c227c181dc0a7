#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ppool::protocol {

/// A malformed frame or payload.
class ProtocolError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Frame kinds. Parent to worker: configure, run. Worker to parent: the others,
/// but for file, which goes both ways.
enum class FrameType : std::uint8_t {
    // 1, 5, 7 and 8 were the two kinds of chunk and of result before they became one.
    ready = 2,
    init_failed = 3,
    // 4 was `spawned`: a worker no longer tells the pool its commands' process groups.
    output_part = 6,
    configure = 9,
    hello = 10,
    run = 11,
    results = 12,
    file = 13,
    live_output = 14,
    /// A command task the worker does not know yet (parent to worker), sent
    /// before the first run frame that names it: a pool that outlives one
    /// command adds tasks to warm workers.
    task = 15,
};

/// Every frame is a 9-byte header (type, 64-bit little-endian payload length)
/// followed by the payload, so one item or output may exceed 4 GB.
inline constexpr std::size_t k_header_size = 9;

/// Appends fixed-width little-endian integers and length-prefixed strings.
class Writer {
public:
    explicit Writer(std::string& out) : m_out(&out) {}
    void u8(std::uint8_t v) { m_out->push_back(static_cast<char>(v)); }
    void u32(std::uint32_t v);
    void u64(std::uint64_t v);
    void i32(std::int32_t v) { u32(static_cast<std::uint32_t>(v)); }
    void bytes(std::string_view s) {
        u64(s.size());
        m_out->append(s);
    }

private:
    std::string* m_out;
};

/// Reads what Writer wrote; throws ProtocolError when the payload is short.
class Reader {
public:
    explicit Reader(std::string_view in) : m_in(in) {}
    std::uint8_t u8();
    std::uint32_t u32();
    std::uint64_t u64();
    std::int32_t i32() { return static_cast<std::int32_t>(u32()); }
    std::string_view bytes();
    bool at_end() const { return m_in.empty(); }

private:
    std::string_view take(std::size_t n);
    std::string_view m_in;
};

/// Starts a frame in `out`; returns the offset to pass to finish_frame.
std::size_t begin_frame(std::string& out, FrameType type);
/// Fills in the payload length of the frame begun at `start`.
void finish_frame(std::string& out, std::size_t start);

/// A complete frame, pointing into the reader's buffer until the next call.
struct Frame {
    FrameType type;
    std::string_view payload;
};

/// Splits a byte stream into frames, whatever the read boundaries were.
/// Which frame types one direction carries: a bit per type.
using FrameTypes = std::uint32_t;
constexpr FrameTypes type_bit(FrameType t) { return FrameTypes{1} << static_cast<unsigned>(t); }

class FrameReader {
public:
    using Types = FrameTypes;
    static constexpr Types k_any = ~Types{0};
    /// What a worker sends to the pool.
    static constexpr Types k_from_worker = type_bit(FrameType::ready) | type_bit(FrameType::init_failed) |
                                           type_bit(FrameType::results) | type_bit(FrameType::output_part) |
                                           type_bit(FrameType::hello) | type_bit(FrameType::file) |
                                           type_bit(FrameType::live_output);

    /// Frames of other types are refused as soon as their header is in, so
    /// that junk is never waited on as if it were the start of a long frame.
    explicit FrameReader(Types accepted = k_any) : m_accepted(accepted) {}

    /// The buffer to append freshly read bytes to.
    std::string& buffer() { return m_buffer; }
    /// The next complete frame, if the buffer holds one; throws ProtocolError
    /// for an unknown type, or one this reader does not accept.
    std::optional<Frame> next();
    /// Drops everything buffered.
    void discard() {
        m_buffer.clear();
        m_offset = 0;
    }
    /// Bytes buffered that do not yet form a frame.
    std::size_t pending() const { return m_buffer.size() - m_offset; }

private:
    /// Capacity kept between frames: a little more than an output part.
    static constexpr std::size_t k_kept_capacity = 256 << 10;
    Types m_accepted;
    std::string m_buffer;
    std::size_t m_offset = 0;
};

}  // namespace ppool::protocol
