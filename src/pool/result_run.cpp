#include "ppool/result_run.hpp"

#include "protocol/packed.hpp"

#include <algorithm>
#include <stdexcept>

namespace ppool {

namespace {

/// Checks that `meta` holds `count` entries whose outputs exactly cover `text`.
bool meta_matches(std::string_view meta, std::uint64_t count, std::string_view text) {
    std::uint64_t covered = 0;
    for (std::uint64_t i = 0; i < count; ++i) {
        std::uint64_t size = 0, duration = 0;
        // Most entries are two one-byte varints.
        if (meta.size() >= 2 && !((meta[0] | meta[1]) & 0x80)) {
            size = static_cast<std::uint8_t>(meta[0]);
            meta.remove_prefix(2);
        } else if (!protocol::read_varint(meta, size) || !protocol::read_varint(meta, duration)) {
            return false;
        }
        size >>= 1;
        // Every printed output ends with its newline.
        if (size == 0 || size > text.size() - covered) return false;
        covered += size;
        if (text[covered - 1] != '\n') return false;
    }
    return meta.empty() && covered == text.size();
}

}  // namespace

ResultRun::ResultRun(std::uint64_t first_seq, std::uint64_t count, int worker, char separator, std::string inputs,
                     std::string meta, std::string text)
    : m_first_seq(first_seq), m_count(count), m_worker(worker), m_separator(separator), m_inputs(std::move(inputs)),
      m_meta(std::move(meta)), m_text(std::move(text)) {
    if (!consistent(count, separator, m_inputs, m_meta, m_text))
        throw std::invalid_argument("a run's parts do not match its count");
}

bool ResultRun::consistent(std::uint64_t count, char separator, std::string_view inputs, std::string_view meta,
                           std::string_view text) {
    auto separators = static_cast<std::uint64_t>(std::count(inputs.begin(), inputs.end(), separator));
    if (separators != count || (!inputs.empty() && inputs.back() != separator)) return false;
    return meta_matches(meta, count, text);
}

ResultRun::Entry ResultRun::pop() {
    Entry e;
    e.seq = m_first_seq + m_taken++;
    std::string_view inputs(m_inputs);
    auto end = inputs.find(m_separator, m_input_at);
    e.input = inputs.substr(m_input_at, end - m_input_at);
    m_input_at = end + 1;
    // Checked in the constructor: the varints are there.
    std::string_view meta = std::string_view(m_meta).substr(m_meta_at);
    auto before = meta.size();
    std::uint64_t size = 0, duration_ns = 0;
    protocol::read_varint(meta, size);
    protocol::read_varint(meta, duration_ns);
    m_meta_at += before - meta.size();
    bool added = size & 1;
    size >>= 1;
    e.output = std::string_view(m_text).substr(m_text_at, static_cast<std::size_t>(size - (added ? 1 : 0)));
    m_text_at += static_cast<std::size_t>(size);
    e.duration_ns = duration_ns;
    return e;
}

TaskResult ResultRun::pop_result() {
    auto e = pop();
    TaskResult r;
    r.seq = e.seq;
    r.input.assign(e.input);
    r.status = Status::ok;
    r.output.assign(e.output);
    r.duration_s = e.duration_s();
    r.worker = m_worker;
    return r;
}

}  // namespace ppool
