#include "pool/job.hpp"

#include <algorithm>

namespace ppool::detail {

Job::Job(std::uint64_t id, const TaskInfo& task, std::unique_ptr<ItemSource> source, std::size_t chunksize,
         bool ordered, std::size_t window, bool fail_fast)
    : m_id(id), m_task(&task), m_source(std::move(source)), m_chunksize(std::max<std::size_t>(chunksize, 1)),
      m_ordered(ordered), m_window(window), m_fail_fast(fail_fast) {}

bool Job::wants_input() const {
    if (m_source_done || m_cancelled) return false;
    if (m_pending.size() + m_packed.size() >= 2 * m_chunksize) return false;
    return m_window == 0 || m_handed_out - m_taken < m_window;
}

void Job::read_input() {
    if (m_packed_source) return read_packed_input();
    m_read_buffer.clear();
    if (!m_source->read_more(m_read_buffer)) {
        m_source_done = true;
        return;
    }
    for (auto& data : m_read_buffer) m_pending.push_back(Item{++m_read, std::move(data)});
}

bool Job::can_hand_out() const {
    if ((m_pending.empty() && m_packed.empty()) || m_cancelled) return false;
    return m_window == 0 || m_handed_out - m_taken < m_window;
}

Chunk Job::take_chunk(std::size_t max) {
    // Items put back go first: they come before the packed ones.
    if (m_pending.empty()) return take_packed_chunk(max == 0 ? m_chunksize : std::min(max, m_chunksize));
    std::size_t n = std::min(m_pending.size(), max == 0 ? m_chunksize : std::min(max, m_chunksize));
    Chunk chunk{m_id, m_task, {}};
    chunk.items.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        chunk.items.push_back(std::move(m_pending.front()));
        m_pending.pop_front();
    }
    m_handed_out += n;
    return chunk;
}

void Job::requeue(std::vector<Item> items) {
    m_handed_out -= items.size();
    for (auto it = items.rbegin(); it != items.rend(); ++it) m_pending.push_front(std::move(*it));
}

void Job::deliver(TaskResult result) {
    if (m_cancelled) return;
    if (m_retries > 0 && (!result.ok() || m_attempts.contains(result.seq))) {
        auto it = m_attempts.try_emplace(result.seq, 1u).first;
        if (!result.ok() && it->second <= m_retries) {
            // Another attempt, first in line; its result keeps the item's place.
            ++it->second;
            --m_handed_out;
            m_pending.push_front(Item{result.seq, std::move(result.input)});
            return;
        }
        result.attempts = it->second;
        m_attempts.erase(it);
    }
    if (m_on_complete) m_on_complete(result);
    ++m_completed;
    if (!result.ok()) ++m_failures;
    if (!result.ok() && m_fail_fast) {
        // Stop here: what finished goes out in order, the failure last, and nothing more.
        for (auto& [seq, waiting] : m_reorder) m_ready.push_back(std::move(waiting));
        m_reorder.clear();
        m_ready.push_back(std::move(result));
        m_stopped_by_failure = true;
        cancel("stopped after the first failure");
        return;
    }
    if (!m_ordered) {
        m_ready.push_back(std::move(result));
        return;
    }
    if (result.seq == m_next_emit && m_reorder.empty()) {
        // The usual case: next in order, nothing waiting behind a gap.
        m_ready.push_back(std::move(result));
        ++m_next_emit;
        return;
    }
    m_reorder.emplace(result.seq, std::move(result));
    drain_reorder();
}

std::optional<TaskResult> Job::take() {
    if (m_ready.empty()) return std::nullopt;
    ++m_taken;
    if (auto* run = std::get_if<ResultRun>(&m_ready.front())) {
        // Expanded one result at a time, as the caller takes them.
        auto result = run->pop_result();
        if (run->empty()) m_ready.pop_front();
        return result;
    }
    auto result = std::move(std::get<TaskResult>(m_ready.front()));
    m_ready.pop_front();
    return result;
}

void Job::cancel(std::string why) {
    if (m_cancelled) return;
    m_cancelled = true;
    m_cancel_reason = std::move(why);
    m_pending.clear();
    m_packed.clear();
}

}  // namespace ppool::detail
