#include "server/client_protocol.hpp"

#include "protocol/frame.hpp"

namespace ppool::server {

namespace {

/// Opens a frame of `kind` in `out`; returns where its length goes.
std::size_t begin(std::string& out, std::uint8_t kind) {
    out.push_back(static_cast<char>(kind));
    auto at = out.size();
    out.append(8, '\0');
    return at;
}

void finish(std::string& out, std::size_t at) {
    std::uint64_t length = out.size() - at - 8;
    for (int i = 0; i < 8; ++i) out[at + static_cast<std::size_t>(i)] = static_cast<char>((length >> (8 * i)) & 0xff);
}

/// The frame readers of the worker protocol throw their own error: it is turned into ours.
template <class F>
auto guarded(F f) -> decltype(f()) {
    try {
        return f();
    } catch (const protocol::ProtocolError& e) {
        throw ClientProtocolError(e.what());
    }
}

bool read_flag(protocol::Reader& r) {
    auto v = r.u8();
    if (v > 1) throw ClientProtocolError("a flag that is neither 0 nor 1");
    return v == 1;
}

void expect_end(const protocol::Reader& r) {
    if (!r.at_end()) throw ClientProtocolError("trailing bytes after the message");
}

}  // namespace

void encode_request(std::string& out, const Request& q) {
    auto at = begin(out, static_cast<std::uint8_t>(q.kind));
    protocol::Writer w(out);
    switch (q.kind) {
    case RequestKind::hello:
        out.append(k_hello_magic);
        w.u32(q.version);
        break;
    case RequestKind::submit_command:
        w.u64(q.words.size());
        for (const auto& word : q.words) w.bytes(word);
        w.u8(q.in_shell ? 1 : 0);
        w.bytes(q.shell);
        break;
    case RequestKind::submit_task:
        w.bytes(q.task);
        w.bytes(q.item);
        break;
    case RequestKind::lend:
        w.u64(q.id);
        w.bytes(q.item);
        break;
    case RequestKind::get:
    case RequestKind::wait:
    case RequestKind::ready:
    case RequestKind::successful: w.u64(q.id); break;
    case RequestKind::close:
    case RequestKind::terminate:
    case RequestKind::join:
    case RequestKind::status: break;
    }
    finish(out, at);
}

Request decode_request(std::uint8_t kind, std::string_view payload) {
    return guarded([&] {
        Request q;
        protocol::Reader r(payload);
        switch (kind) {
        case static_cast<std::uint8_t>(RequestKind::hello):
            if (payload.substr(0, k_hello_magic.size()) != k_hello_magic)
                throw ClientProtocolError("not a ppool client");
            r = protocol::Reader(payload.substr(k_hello_magic.size()));
            q.version = r.u32();
            break;
        case static_cast<std::uint8_t>(RequestKind::submit_command): {
            auto count = r.u64();
            // Every word takes at least its 8-byte length.
            if (count == 0 || count > payload.size() / 8) throw ClientProtocolError("a command of no words, or too many");
            for (std::uint64_t i = 0; i < count; ++i) q.words.emplace_back(r.bytes());
            if (q.words.front().empty()) throw ClientProtocolError("a command whose program is empty");
            q.in_shell = read_flag(r);
            q.shell = r.bytes();
            break;
        }
        case static_cast<std::uint8_t>(RequestKind::submit_task):
            q.task = r.bytes();
            q.item = r.bytes();
            if (q.task.empty()) throw ClientProtocolError("a task without a name");
            break;
        case static_cast<std::uint8_t>(RequestKind::lend):
            q.id = r.u64();
            q.item = r.bytes();
            if (q.id == 0) throw ClientProtocolError("a lend of no workers");
            if (q.item.find('\0') == std::string::npos) throw ClientProtocolError("a lend without a directory");
            break;
        case static_cast<std::uint8_t>(RequestKind::get):
        case static_cast<std::uint8_t>(RequestKind::wait):
        case static_cast<std::uint8_t>(RequestKind::ready):
        case static_cast<std::uint8_t>(RequestKind::successful): q.id = r.u64(); break;
        case static_cast<std::uint8_t>(RequestKind::close):
        case static_cast<std::uint8_t>(RequestKind::terminate):
        case static_cast<std::uint8_t>(RequestKind::join):
        case static_cast<std::uint8_t>(RequestKind::status): break;
        default: throw ClientProtocolError("unknown request kind " + std::to_string(kind));
        }
        q.kind = static_cast<RequestKind>(kind);
        expect_end(r);
        return q;
    });
}

void encode_reply(std::string& out, const Reply& a) {
    auto at = begin(out, static_cast<std::uint8_t>(a.kind));
    protocol::Writer w(out);
    switch (a.kind) {
    case ReplyKind::welcome: w.u32(a.version); break;
    case ReplyKind::job: w.u64(a.id); break;
    case ReplyKind::result:
        w.u8(a.flag ? 1 : 0);
        w.bytes(a.output);
        w.bytes(a.stderr_text);
        w.bytes(a.message);
        break;
    case ReplyKind::flag: w.u8(a.flag ? 1 : 0); break;
    case ReplyKind::done: break;
    case ReplyKind::status:
        w.u64(a.status.workers);
        w.u64(a.status.queued);
        w.u64(a.status.running);
        w.u64(a.status.finished);
        w.u64(a.status.waiting);
        w.u64(a.status.lending);
        w.u8(a.status.closed ? 1 : 0);
        break;
    case ReplyKind::error: w.bytes(a.message); break;
    }
    finish(out, at);
}

Reply decode_reply(std::uint8_t kind, std::string_view payload) {
    return guarded([&] {
        Reply a;
        protocol::Reader r(payload);
        switch (kind) {
        case static_cast<std::uint8_t>(ReplyKind::welcome): a.version = r.u32(); break;
        case static_cast<std::uint8_t>(ReplyKind::job): a.id = r.u64(); break;
        case static_cast<std::uint8_t>(ReplyKind::result):
            a.flag = read_flag(r);
            a.output = r.bytes();
            a.stderr_text = r.bytes();
            a.message = r.bytes();
            break;
        case static_cast<std::uint8_t>(ReplyKind::flag): a.flag = read_flag(r); break;
        case static_cast<std::uint8_t>(ReplyKind::done): break;
        case static_cast<std::uint8_t>(ReplyKind::status):
            a.status.workers = r.u64();
            a.status.queued = r.u64();
            a.status.running = r.u64();
            a.status.finished = r.u64();
            a.status.waiting = r.u64();
            a.status.lending = r.u64();
            a.status.closed = read_flag(r);
            break;
        case static_cast<std::uint8_t>(ReplyKind::error): a.message = r.bytes(); break;
        default: throw ClientProtocolError("unknown reply kind " + std::to_string(kind));
        }
        a.kind = static_cast<ReplyKind>(kind);
        expect_end(r);
        return a;
    });
}

std::optional<FrameSplitter::Frame> FrameSplitter::next() {
    if (m_offset > 0 && m_offset == m_buffer.size()) {
        m_buffer.clear();
        m_offset = 0;
    }
    std::string_view rest = std::string_view(m_buffer).substr(m_offset);
    if (rest.size() < k_client_header_size) return compact();
    std::uint64_t length = 0;
    for (int i = 7; i >= 0; --i) length = (length << 8) | static_cast<std::uint8_t>(rest[1 + static_cast<std::size_t>(i)]);
    if (length > m_max) throw ClientProtocolError("a message larger than " + std::to_string(m_max) + " bytes");
    if (rest.size() < k_client_header_size + length) return compact();
    Frame frame{static_cast<std::uint8_t>(rest[0]), rest.substr(k_client_header_size, length)};
    m_offset += k_client_header_size + static_cast<std::size_t>(length);
    return frame;
}

std::nullopt_t FrameSplitter::compact() {
    // The frames taken are done with: the buffer keeps only the start of the next.
    m_buffer.erase(0, m_offset);
    m_offset = 0;
    return std::nullopt;
}

}  // namespace ppool::server
