#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ppool/result.hpp"
#include "protocol/frame.hpp"

namespace ppool::protocol {

/// Appends `v` in 7-bit groups, low first.
inline void append_varint(std::string& out, std::uint64_t v) {
    if (v < 0x80) {
        out.push_back(static_cast<char>(v));
        return;
    }
    while (v >= 0x80) {
        out.push_back(static_cast<char>(v | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}

/// Reads a varint from the front of `in`; false if it is cut short, too long,
/// or not in its shortest form (every value has one spelling).
inline bool read_varint(std::string_view& in, std::uint64_t& v) {
    v = 0;
    for (unsigned shift = 0; shift < 64 && !in.empty(); shift += 7) {
        auto byte = static_cast<std::uint8_t>(in.front());
        in.remove_prefix(1);
        if (shift == 63 && byte > 1) return false;
        v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
        if (!(byte & 0x80)) return byte != 0 || shift == 0;
    }
    return false;
}

/// A frame in pieces: the small fields in buffers it owns, the item bytes
/// by reference (which must outlive the sending), so items are never copied.
struct Gather {
    std::deque<std::string> owned;
    std::vector<std::string_view> pieces;
};

/// The index of a chunk's items: per item, the step of its sequence number
/// from the one before (zigzag, so that 0 is "the next one") and its size.
class RunIndex {
public:
    void add(std::uint64_t seq, std::uint64_t size);
    /// Adds `n` items, the i-th `item(i)`, a pair of its sequence number
    /// and size: the usual ones (each the next, short) two bytes at a time
    /// into a small buffer, appended a few hundred at once.
    template <class Item>
    void add_all(std::size_t n, Item item) {
        m_bytes.reserve(m_bytes.size() + 2 * n);
        char buffer[512];
        std::size_t used = 0;
        for (std::size_t i = 0; i < n; ++i) {
            auto [seq, size] = item(i);
            bool usual = seq == m_previous + 1 && size < 0x80;
            if (usual) {
                buffer[used] = 0;
                buffer[used + 1] = static_cast<char>(size);
                used += 2;
                m_previous = seq;
                ++m_count;
                if (used < sizeof buffer) continue;
            }
            m_bytes.append(buffer, used);
            used = 0;
            if (!usual) add(seq, size);
        }
        m_bytes.append(buffer, used);
    }
    std::uint64_t count() const { return m_count; }
    const std::string& bytes() const { return m_bytes; }
    void clear() {
        m_bytes.clear();
        m_count = 0;
        m_previous = 0;
    }

private:
    std::string m_bytes;
    std::uint64_t m_count = 0;
    std::uint64_t m_previous = 0;
};

/// One item of a chunk.
struct WireItem {
    std::uint64_t seq = 0;
    std::string_view data;
};

/// A chunk of items for one task (parent to worker): `items` back to back,
/// each followed by one byte that is not part of it, described by the index.
struct RunMessage {
    std::string_view task;
    std::vector<WireItem> items;
    /// Set when the pool times each chunk itself (--timeout N%): the limit
    /// of each of these items in nanoseconds, 0 for none yet. Unset: the
    /// limit the worker was configured with.
    std::optional<std::uint64_t> timeout_ns;
};

/// The frame in pieces; `items` is sent by reference.
void encode_run(Gather& out, std::string_view task, const RunIndex& index, std::string_view items,
                std::optional<std::uint64_t> timeout_ns = std::nullopt);
/// Throws ProtocolError unless the index describes exactly the item bytes.
RunMessage decode_run(std::string_view payload);

/// What a worker reports of one finished item.
struct EntryMeta {
    Status status = Status::error;
    std::optional<int> exit_code;
    std::optional<int> signal;
    std::uint64_t duration_ns = 0;
    std::uint64_t output_size = 0;  ///< printed size in `text`: with the added newline, if any
    bool added_newline = false;     ///< the output had no final newline; text output adds one
    std::uint64_t stderr_size = 0;  ///< in `extra`
    std::uint64_t error_size = 0;   ///< in `extra`, after the stderr
    std::uint64_t error_type_size = 0;  ///< in `extra`, after the error: the type of the exception a task threw
};

/// The results of the next `count` items of the worker's chunk, in order
/// (worker to parent). `meta` holds an entry per item (see EntryMeta; a plain
/// success is two bytes), `durations` a varint per item, `text` the outputs
/// back to back as text output prints them, `extra` each item's stderr and
/// error texts. Large outputs come ahead in output_part frames.
struct ResultsMessage {
    std::uint64_t count = 0;
    /// How long the item after these has been running when they were sent
    /// (0: it had not started), so that the parent's clock for it is right
    /// even when results come in batches.
    std::uint64_t running_ns = 0;
    std::string_view meta;
    std::string_view durations;
    std::string_view text;
    std::string_view extra;
};

/// Appends one entry to a results message's meta (all but its duration).
void append_entry(std::string& meta, const EntryMeta& entry);
void encode_results(std::string& out, const ResultsMessage& msg);
/// Checks the framing; the entries are checked as EntryReader reads them.
ResultsMessage decode_results(std::string_view payload);

/// Reads a results message's entries in order, checking each against the texts.
class EntryReader {
public:
    explicit EntryReader(const ResultsMessage& msg) : m_msg(msg), m_meta(msg.meta), m_durations(msg.durations) {}
    /// The next entry and where its texts start; ProtocolError if it is corrupt.
    void next(EntryMeta& entry, std::size_t& output_at, std::size_t& extra_at);
    /// The next entry, if it is a plain success in its shortest form (most
    /// are): its printed output's size, whether a newline was added, its
    /// duration and where its output starts. False, reading nothing, otherwise.
    bool next_plain(std::uint64_t& output_size, bool& added_newline, std::uint64_t& duration_ns,
                    std::size_t& output_at) {
        if (m_meta.size() < 2 || m_durations.empty() || m_read == m_msg.count) return false;
        auto head = static_cast<std::uint8_t>(m_meta[0]);
        auto size = static_cast<std::uint8_t>(m_meta[1]);
        auto duration = static_cast<std::uint8_t>(m_durations[0]);
        if ((head != 0 && head != k_added_newline_bit) || (size & 0x80) || (duration & 0x80)) return false;
        if (size > m_msg.text.size() - m_text_at) return false;
        if (head && (size == 0 || m_msg.text[m_text_at + size - 1] != '\n')) return false;
        m_meta.remove_prefix(2);
        m_durations.remove_prefix(1);
        ++m_read;
        output_size = size;
        added_newline = head != 0;
        duration_ns = duration;
        output_at = m_text_at;
        m_text_at += size;
        return true;
    }
    /// ProtocolError unless every entry, byte of text and byte of extra was read.
    void finish() const;

private:
    static constexpr std::uint8_t k_added_newline_bit = 32;
    const ResultsMessage& m_msg;
    std::string_view m_meta;
    std::string_view m_durations;
    std::uint64_t m_read = 0;
    std::size_t m_text_at = 0;
    std::size_t m_extra_at = 0;
};

/// Which stream an output part belongs to.
enum class Stream : std::uint8_t { out = 1, err = 2 };

/// A piece of a large output of item `seq`, sent before its result so that
/// neither side holds the whole of it.
struct OutputPart {
    std::uint64_t seq = 0;
    Stream stream = Stream::out;
    std::string_view data;
};
void encode_output_part(std::string& out, const OutputPart& part);
/// The frame encode_output_part makes, but for `part.data` itself: to be
/// written right after it (with writev), saving the copy.
void encode_output_part_head(std::string& out, std::uint64_t seq, Stream stream, std::uint64_t size);
OutputPart decode_output_part(std::string_view payload);
/// A piece of item `seq`'s output as the command wrote it, sent while it
/// runs when the pool writes output as it comes (--line-buffer, --ungroup):
/// the same fields as an output part, in a frame of its own, and none of it
/// is in the item's result.
void encode_live_output(std::string& out, const OutputPart& part);
OutputPart decode_live_output(std::string_view payload);

/// A file on its way to the worker before item `seq` runs (--transfer), or
/// back from it after (--return), in parts no larger than an output part:
/// the first names the file and its mode, the last one completes it. A part
/// that is `failed` stands alone: the file could not be read, and `data` says why.
struct FilePart {
    std::uint64_t seq = 0;
    bool first = false;
    bool last = false;
    bool failed = false;
    std::uint32_t mode = 0;  ///< permission bits (07777 at most)
    std::string_view path;   ///< where it goes, as the user gave it
    std::string_view data;
};
void encode_file_part(std::string& out, const FilePart& part);
/// Throws ProtocolError for a malformed part (unknown flags, a failure not
/// alone, an empty path, mode bits beyond 07777).
FilePart decode_file_part(std::string_view payload);

void encode_ready(std::string& out);
void encode_init_failed(std::string& out, std::string_view message);
std::string_view decode_init_failed(std::string_view payload);

}  // namespace ppool::protocol
