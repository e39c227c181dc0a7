#include "protocol/frame.hpp"

#include <bit>
#include <cstring>

namespace ppool::protocol {

namespace {

/// Little-endian on the wire whatever the host; a plain copy on the usual hosts.
template <class T>
T to_little(T v) {
    if constexpr (std::endian::native == std::endian::big) {
        if constexpr (sizeof v == 8) return __builtin_bswap64(v);
        else return __builtin_bswap32(v);
    }
    return v;
}

template <class T>
void put(std::string& out, T v) {
    v = to_little(v);
    char b[sizeof v];
    std::memcpy(b, &v, sizeof v);
    out.append(b, sizeof v);
}

template <class T>
T get(std::string_view bytes) {
    T v;
    std::memcpy(&v, bytes.data(), sizeof v);
    return to_little(v);
}

}  // namespace

void Writer::u32(std::uint32_t v) { put(*m_out, v); }

void Writer::u64(std::uint64_t v) { put(*m_out, v); }

std::string_view Reader::take(std::size_t n) {
    if (m_in.size() < n) throw ProtocolError("truncated payload");
    auto out = m_in.substr(0, n);
    m_in.remove_prefix(n);
    return out;
}

std::uint8_t Reader::u8() { return static_cast<std::uint8_t>(take(1)[0]); }

std::uint32_t Reader::u32() { return get<std::uint32_t>(take(4)); }

std::uint64_t Reader::u64() { return get<std::uint64_t>(take(8)); }

std::string_view Reader::bytes() {
    auto n = u64();
    if (n > m_in.size()) throw ProtocolError("string longer than its payload");
    return take(static_cast<std::size_t>(n));
}

std::size_t begin_frame(std::string& out, FrameType type) {
    std::size_t start = out.size();
    Writer w(out);
    w.u8(static_cast<std::uint8_t>(type));
    w.u64(0);
    return start;
}

void finish_frame(std::string& out, std::size_t start) {
    std::uint64_t length = to_little(static_cast<std::uint64_t>(out.size() - start - k_header_size));
    std::memcpy(out.data() + start + 1, &length, sizeof length);
}

std::optional<Frame> FrameReader::next() {
    if (m_offset == m_buffer.size()) {
        // A buffer grown for a large frame is not kept for the small ones after it.
        if (m_buffer.capacity() > k_kept_capacity) m_buffer = std::string();
        else m_buffer.clear();
        m_offset = 0;
    } else if (m_offset > 0 && m_offset >= m_buffer.size() / 2) {
        // Drop consumed bytes once they are at least half the buffer: amortised O(1).
        m_buffer.erase(0, m_offset);
        m_offset = 0;
    }
    if (pending() < k_header_size) return std::nullopt;
    Reader header(std::string_view(m_buffer).substr(m_offset, k_header_size));
    auto type = header.u8();
    auto length = header.u64();
    constexpr FrameTypes k_known = type_bit(FrameType::ready) | type_bit(FrameType::init_failed) |
                                   type_bit(FrameType::output_part) | type_bit(FrameType::configure) |
                                   type_bit(FrameType::hello) | type_bit(FrameType::run) | type_bit(FrameType::results) |
                                   type_bit(FrameType::file) | type_bit(FrameType::live_output) |
                                   type_bit(FrameType::task);
    if (type >= 32 || !(k_known & (FrameTypes{1} << type)))
        throw ProtocolError("unknown frame type " + std::to_string(type));
    if (!(m_accepted & type_bit(static_cast<FrameType>(type))))
        throw ProtocolError("unexpected frame type " + std::to_string(type));
    if (length > pending() - k_header_size) return std::nullopt;
    Frame frame{static_cast<FrameType>(type),
                std::string_view(m_buffer).substr(m_offset + k_header_size, static_cast<std::size_t>(length))};
    m_offset += k_header_size + static_cast<std::size_t>(length);
    return frame;
}

}  // namespace ppool::protocol
