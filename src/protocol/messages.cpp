#include "protocol/messages.hpp"

#include <cstdint>
#include <climits>

namespace ppool::protocol {

namespace {

/// An entry's first varint: the status, then a bit per optional field.
enum EntryBits : std::uint64_t {
    // EntryReader::next_plain knows k_added_newline's value too.
    k_status_mask = 7,
    k_has_exit = 8,
    k_has_signal = 16,
    k_added_newline = 32,
    k_has_stderr = 64,
    k_has_error = 128,
    k_has_error_type = 256,
};
constexpr std::uint64_t k_known_bits = 511;

std::uint64_t zigzag(std::int64_t v) {
    return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

std::int64_t unzigzag(std::uint64_t v) { return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1); }

inline std::uint64_t varint(std::string_view& in) {
    // Most numbers here (sizes of short items, steps of 1, flags) fit one byte.
    if (!in.empty() && !(static_cast<std::uint8_t>(in.front()) & 0x80)) {
        auto v = static_cast<std::uint8_t>(in.front());
        in.remove_prefix(1);
        return v;
    }
    std::uint64_t v = 0;
    if (!read_varint(in, v)) throw ProtocolError("corrupt number in a message");
    return v;
}

/// A code that fits an int, as exit codes and signals do.
int small_int(std::int64_t v) {
    if (v < INT32_MIN || v > INT32_MAX) throw ProtocolError("exit code or signal out of range");
    return static_cast<int>(v);
}

}  // namespace

void RunIndex::add(std::uint64_t seq, std::uint64_t size) {
    append_varint(m_bytes, zigzag(static_cast<std::int64_t>(seq - m_previous - 1)));
    append_varint(m_bytes, size);
    m_previous = seq;
    ++m_count;
}

void encode_run(Gather& out, std::string_view task, const RunIndex& index, std::string_view items,
                std::optional<std::uint64_t> timeout_ns) {
    auto& head = out.owned.emplace_back();
    Writer w(head);
    w.u8(static_cast<std::uint8_t>(FrameType::run));
    w.u64(8 + task.size() + 8 + 8 + index.bytes().size() + 8 + items.size() + (timeout_ns ? 8 : 0));
    w.bytes(task);
    w.u64(index.count());
    w.bytes(index.bytes());
    w.u64(items.size());
    out.pieces.push_back(head);
    if (!items.empty()) out.pieces.push_back(items);
    if (timeout_ns) {
        // After the items, which go by reference: a field of its own.
        auto& tail = out.owned.emplace_back();
        Writer t(tail);
        t.u64(*timeout_ns);
        out.pieces.push_back(tail);
    }
}

RunMessage decode_run(std::string_view payload) {
    Reader r(payload);
    RunMessage msg;
    msg.task = r.bytes();
    auto count = r.u64();
    auto index = r.bytes();
    auto items = r.bytes();
    if (!r.at_end()) msg.timeout_ns = r.u64();
    if (!r.at_end()) throw ProtocolError("trailing bytes after run message");
    // Each item takes at least two bytes of index and one of items.
    if (count > index.size() / 2 || count > items.size()) throw ProtocolError("item count larger than the message");
    msg.items.reserve(static_cast<std::size_t>(count));
    std::uint64_t previous = 0;
    std::size_t at = 0;
    for (std::uint64_t i = 0; i < count; ++i) {
        auto seq = previous + 1 + static_cast<std::uint64_t>(unzigzag(varint(index)));
        auto size = varint(index);
        if (size >= items.size() - at) throw ProtocolError("run items shorter than their index");
        msg.items.push_back(WireItem{seq, items.substr(at, static_cast<std::size_t>(size))});
        at += static_cast<std::size_t>(size) + 1;
        previous = seq;
    }
    if (!index.empty() || at != items.size()) throw ProtocolError("run index does not match its items");
    return msg;
}

void append_entry(std::string& meta, const EntryMeta& e) {
    std::uint64_t head = static_cast<std::uint64_t>(e.status);
    if (e.exit_code) head |= k_has_exit;
    if (e.signal) head |= k_has_signal;
    if (e.added_newline) head |= k_added_newline;
    if (e.stderr_size) head |= k_has_stderr;
    if (e.error_size) head |= k_has_error;
    if (e.error_type_size) head |= k_has_error_type;
    append_varint(meta, head);
    if (e.exit_code) append_varint(meta, zigzag(*e.exit_code));
    if (e.signal) append_varint(meta, zigzag(*e.signal));
    append_varint(meta, e.output_size);
    if (e.stderr_size) append_varint(meta, e.stderr_size);
    if (e.error_size) append_varint(meta, e.error_size);
    if (e.error_type_size) append_varint(meta, e.error_type_size);
}

void encode_results(std::string& out, const ResultsMessage& msg) {
    auto start = begin_frame(out, FrameType::results);
    Writer w(out);
    w.u64(msg.count);
    w.u64(msg.running_ns);
    w.bytes(msg.meta);
    w.bytes(msg.durations);
    w.bytes(msg.text);
    w.bytes(msg.extra);
    finish_frame(out, start);
}

ResultsMessage decode_results(std::string_view payload) {
    Reader r(payload);
    ResultsMessage msg;
    msg.count = r.u64();
    msg.running_ns = r.u64();
    msg.meta = r.bytes();
    msg.durations = r.bytes();
    msg.text = r.bytes();
    msg.extra = r.bytes();
    if (!r.at_end()) throw ProtocolError("trailing bytes after results message");
    // Every entry takes at least two bytes of meta and one of durations.
    if (msg.count == 0 || msg.count > msg.meta.size() / 2 || msg.count > msg.durations.size())
        throw ProtocolError("results count does not match its entries");
    return msg;
}

void EntryReader::next(EntryMeta& e, std::size_t& output_at, std::size_t& extra_at) {
    if (m_read++ == m_msg.count) throw ProtocolError("more results than their count");
    auto head = varint(m_meta);
    if ((head & ~k_known_bits) || (head & k_status_mask) > static_cast<std::uint64_t>(Status::error))
        throw ProtocolError("unknown result status or flags");
    e.status = static_cast<Status>(head & k_status_mask);
    e.exit_code.reset();
    e.signal.reset();
    if (head & k_has_exit) e.exit_code = small_int(unzigzag(varint(m_meta)));
    if (head & k_has_signal) e.signal = small_int(unzigzag(varint(m_meta)));
    e.duration_ns = varint(m_durations);
    e.output_size = varint(m_meta);
    e.added_newline = head & k_added_newline;
    e.stderr_size = (head & k_has_stderr) ? varint(m_meta) : 0;
    e.error_size = (head & k_has_error) ? varint(m_meta) : 0;
    e.error_type_size = (head & k_has_error_type) ? varint(m_meta) : 0;
    if (((head & k_has_stderr) && e.stderr_size == 0) || ((head & k_has_error) && e.error_size == 0) ||
        ((head & k_has_error_type) && e.error_type_size == 0))
        throw ProtocolError("empty text flagged in a result");
    if (e.output_size > m_msg.text.size() - m_text_at) throw ProtocolError("result output beyond its text");
    if (e.added_newline && (e.output_size == 0 || m_msg.text[m_text_at + e.output_size - 1] != '\n'))
        throw ProtocolError("result output lacks the newline it says was added");
    if (e.stderr_size > m_msg.extra.size() - m_extra_at ||
        e.error_size > m_msg.extra.size() - m_extra_at - e.stderr_size ||
        e.error_type_size > m_msg.extra.size() - m_extra_at - e.stderr_size - e.error_size)
        throw ProtocolError("result texts beyond their buffer");
    output_at = m_text_at;
    extra_at = m_extra_at;
    m_text_at += static_cast<std::size_t>(e.output_size);
    m_extra_at += static_cast<std::size_t>(e.stderr_size + e.error_size + e.error_type_size);
}

void EntryReader::finish() const {
    if (m_read != m_msg.count || !m_meta.empty() || !m_durations.empty() || m_text_at != m_msg.text.size() || m_extra_at != m_msg.extra.size())
        throw ProtocolError("results do not match their count");
}

namespace {

void encode_part(std::string& out, FrameType type, const OutputPart& part) {
    auto start = begin_frame(out, type);
    Writer w(out);
    w.u64(part.seq);
    w.u8(static_cast<std::uint8_t>(part.stream));
    w.bytes(part.data);
    finish_frame(out, start);
}

OutputPart decode_part(std::string_view payload) {
    Reader r(payload);
    OutputPart part;
    part.seq = r.u64();
    auto stream = r.u8();
    if (stream != 1 && stream != 2) throw ProtocolError("unknown output stream");
    part.stream = static_cast<Stream>(stream);
    part.data = r.bytes();
    if (!r.at_end()) throw ProtocolError("trailing bytes after output part");
    return part;
}

}  // namespace

void encode_output_part(std::string& out, const OutputPart& part) { encode_part(out, FrameType::output_part, part); }

void encode_output_part_head(std::string& out, std::uint64_t seq, Stream stream, std::uint64_t size) {
    Writer w(out);
    w.u8(static_cast<std::uint8_t>(FrameType::output_part));
    // The payload: the sequence number, the stream, and the bytes with their length.
    w.u64(8 + 1 + 8 + size);
    w.u64(seq);
    w.u8(static_cast<std::uint8_t>(stream));
    w.u64(size);
}
OutputPart decode_output_part(std::string_view payload) { return decode_part(payload); }
void encode_live_output(std::string& out, const OutputPart& part) { encode_part(out, FrameType::live_output, part); }
OutputPart decode_live_output(std::string_view payload) { return decode_part(payload); }

namespace {
enum FileFlags : std::uint8_t { k_file_first = 1, k_file_last = 2, k_file_failed = 4 };
}  // namespace

void encode_file_part(std::string& out, const FilePart& part) {
    auto start = begin_frame(out, FrameType::file);
    Writer w(out);
    w.u64(part.seq);
    w.u8(static_cast<std::uint8_t>((part.first ? k_file_first : 0) | (part.last ? k_file_last : 0) |
                                   (part.failed ? k_file_failed : 0)));
    w.u32(part.mode);
    w.bytes(part.path);
    w.bytes(part.data);
    finish_frame(out, start);
}

FilePart decode_file_part(std::string_view payload) {
    Reader r(payload);
    FilePart part;
    part.seq = r.u64();
    auto flags = r.u8();
    part.mode = r.u32();
    part.path = r.bytes();
    part.data = r.bytes();
    if (!r.at_end()) throw ProtocolError("trailing bytes after file part");
    if (flags > (k_file_first | k_file_last | k_file_failed)) throw ProtocolError("unknown file part flags");
    part.first = flags & k_file_first;
    part.last = flags & k_file_last;
    part.failed = flags & k_file_failed;
    if (part.failed && !(part.first && part.last)) throw ProtocolError("a failed file part not alone");
    if (part.mode > 07777) throw ProtocolError("file mode out of range");
    if (part.path.empty() || part.path.find('\0') != std::string_view::npos)
        throw ProtocolError("file part without a usable path");
    return part;
}

void encode_ready(std::string& out) { finish_frame(out, begin_frame(out, FrameType::ready)); }

void encode_init_failed(std::string& out, std::string_view message) {
    auto start = begin_frame(out, FrameType::init_failed);
    Writer(out).bytes(message);
    finish_frame(out, start);
}

std::string_view decode_init_failed(std::string_view payload) {
    Reader r(payload);
    auto msg = r.bytes();
    if (!r.at_end()) throw ProtocolError("trailing bytes after init_failed message");
    return msg;
}

}  // namespace ppool::protocol
