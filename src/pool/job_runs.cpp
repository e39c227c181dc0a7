// The parts of Job that keep items packed and results as runs.
#include "pool/job.hpp"

#include <algorithm>

namespace ppool::detail {

namespace {

std::uint64_t count_of(const Ready& ready) {
    if (auto* run = std::get_if<ResultRun>(&ready)) return run->size();
    return 1;
}

}  // namespace

void Job::use_packed_input() { m_packed_source = dynamic_cast<PackedSource*>(m_source.get()); }

void Job::read_packed_input() {
    if (!m_packed_source->read_packed(m_packed_read)) {
        m_source_done = true;
        return;
    }
    if (m_packed_read.count == 0) return;
    m_packed_read.first_seq = m_read + 1;
    m_read += m_packed_read.count;
    m_packed.push(std::move(m_packed_read));
    m_packed_read = PackedItems{};
}

Chunk Job::take_packed_chunk(std::size_t n) {
    Chunk chunk{m_id, m_task, {}, m_packed.take(n)};
    m_handed_out += chunk.packed.count;
    return chunk;
}

void Job::drain_reorder() {
    for (auto it = m_reorder.begin(); it != m_reorder.end() && it->first == m_next_emit; it = m_reorder.erase(it)) {
        m_next_emit += count_of(it->second);
        m_ready.push_back(std::move(it->second));
    }
}

void Job::deliver_run(ResultRun run) {
    if (m_cancelled || run.empty()) return;
    m_completed += run.size();
    if (!m_ordered) {
        m_ready.push_back(std::move(run));
        return;
    }
    auto first = run.first_seq();
    m_reorder.emplace(first, std::move(run));
    drain_reorder();
}

std::optional<Ready> Job::take_batch() {
    if (m_ready.empty()) return std::nullopt;
    auto ready = std::move(m_ready.front());
    m_ready.pop_front();
    m_taken += count_of(ready);
    return ready;
}

}  // namespace ppool::detail
