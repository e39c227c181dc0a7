#include "protocol/mux.hpp"

#include <string>

namespace ppool::protocol::mux {

namespace {

void put_u32(std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint32_t get_u32(const char* p) {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
    return v;
}

}  // namespace

void append(std::string& out, Kind kind, std::uint32_t id, std::string_view payload) {
    out.push_back(static_cast<char>(kind));
    put_u32(out, id);
    put_u32(out, static_cast<std::uint32_t>(payload.size()));
    out.append(payload);
}

void append_hello(std::string& out) {
    std::string payload;
    put_u32(payload, k_version);
    append(out, Kind::hello, 0, payload);
}

std::uint32_t decode_hello(std::string_view payload) {
    if (payload.size() != 4) throw ProtocolError("a hello frame of " + std::to_string(payload.size()) + " bytes");
    return get_u32(payload.data());
}

void append_connect(std::string& out, std::uint16_t port, std::string_view token) {
    std::string payload;
    put_u32(payload, port);
    payload.append(token);
    append(out, Kind::connect, 0, payload);
}

std::pair<std::uint16_t, std::string> decode_connect(std::string_view payload) {
    if (payload.size() != 4 + k_token_size)
        throw ProtocolError("a connect frame of " + std::to_string(payload.size()) + " bytes");
    auto port = get_u32(payload.data());
    if (port == 0 || port > 65535) throw ProtocolError("a connect frame for port " + std::to_string(port));
    return {static_cast<std::uint16_t>(port), std::string(payload.substr(4))};
}

void append_ended(std::string& out, std::uint32_t id, int exit_code, int signal) {
    std::string payload;
    put_u32(payload, static_cast<std::uint32_t>(exit_code));
    put_u32(payload, static_cast<std::uint32_t>(signal));
    append(out, Kind::ended, id, payload);
}

std::pair<int, int> decode_ended(std::string_view payload) {
    if (payload.size() != 8) throw ProtocolError("an ended frame of " + std::to_string(payload.size()) + " bytes");
    return {static_cast<int>(get_u32(payload.data())), static_cast<int>(get_u32(payload.data() + 4))};
}

std::optional<Frame> Reader::next() {
    std::size_t left = m_buffer.size() - m_offset;
    if (left < k_header_size) {
        if (m_offset > 0) {
            m_buffer.erase(0, m_offset);
            m_offset = 0;
        }
        return std::nullopt;
    }
    const char* head = m_buffer.data() + m_offset;
    auto kind = static_cast<std::uint8_t>(head[0]);
    if (kind < static_cast<std::uint8_t>(Kind::hello) || kind > static_cast<std::uint8_t>(Kind::unconnected))
        throw ProtocolError("unknown hub frame kind " + std::to_string(kind));
    std::uint32_t id = get_u32(head + 1);
    std::size_t size = get_u32(head + 5);
    if (size > k_max_payload) throw ProtocolError("a hub frame of " + std::to_string(size) + " bytes");
    if (left < k_header_size + size) {
        // Keep what is consumed from growing the buffer without bound.
        if (m_offset > (1 << 16)) {
            m_buffer.erase(0, m_offset);
            m_offset = 0;
        }
        return std::nullopt;
    }
    Frame frame{static_cast<Kind>(kind), id, std::string_view(m_buffer).substr(m_offset + k_header_size, size)};
    m_offset += k_header_size + size;
    return frame;
}

}  // namespace ppool::protocol::mux
