#include "protocol/frame.hpp"

namespace ppool::protocol {

void Writer::u32(std::uint32_t v) {
    char b[4];
    for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
    m_out.append(b, 4);
}

void Writer::u64(std::uint64_t v) {
    char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
    m_out.append(b, 8);
}

std::string_view Reader::take(std::size_t n) {
    if (m_in.size() < n) throw ProtocolError("truncated payload");
    auto out = m_in.substr(0, n);
    m_in.remove_prefix(n);
    return out;
}

std::uint8_t Reader::u8() { return static_cast<std::uint8_t>(take(1)[0]); }

std::uint32_t Reader::u32() {
    auto b = take(4);
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<std::uint8_t>(b[i]);
    return v;
}

std::uint64_t Reader::u64() {
    auto b = take(8);
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<std::uint8_t>(b[i]);
    return v;
}

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
    std::uint64_t length = out.size() - start - k_header_size;
    for (int i = 0; i < 8; ++i) out[start + 1 + i] = static_cast<char>((length >> (8 * i)) & 0xff);
}

std::optional<Frame> FrameReader::next() {
    if (m_offset == m_buffer.size()) {
        m_buffer.clear();
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
    if (type < 1 || type > 5) throw ProtocolError("unknown frame type " + std::to_string(type));
    if (length > pending() - k_header_size) return std::nullopt;
    Frame frame{static_cast<FrameType>(type),
                std::string_view(m_buffer).substr(m_offset + k_header_size, static_cast<std::size_t>(length))};
    m_offset += k_header_size + static_cast<std::size_t>(length);
    return frame;
}

}  // namespace ppool::protocol
