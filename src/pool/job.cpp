#include "pool/job.hpp"

#include "pool/run_data.hpp"

#include <algorithm>

namespace ppool::detail {

namespace {

/// Runs an item lost with its host may get elsewhere, beyond the job's retries:
/// enough for a host or two going down, not a loop for an item that kills every worker.
constexpr unsigned k_reruns = 2;

}  // namespace

Job::Job(std::uint64_t id, const TaskInfo& task, std::unique_ptr<ItemSource> source, std::size_t chunksize,
         bool ordered, std::size_t window, HaltRule halt)
    : m_id(id), m_task(&task), m_source(std::move(source)), m_chunksize(std::max<std::size_t>(chunksize, 1)),
      m_ordered(ordered), m_window(window), m_halt(halt) {
    // A source that reads blocks hands them over as they are, with no string per item.
    m_block_source = dynamic_cast<BlockSource*>(m_source.get());
}

bool Job::wants_input() const {
    if (m_source_done || m_cancelled) return false;
    // A halt at a percentage of the items needs their number: the input is read to its end.
    if (m_halt.needs_total()) return true;
    if (m_queue.size() >= 2 * m_chunksize) return false;
    return m_window == 0 || m_handed_out - m_taken < m_window;
}

void Job::read_input() {
    try {
        read_some_input();
    } catch (...) {
        // A failed input ends this job only: what was read before runs, and
        // the error comes after its results.
        m_input_error = std::current_exception();
        m_source_done = true;
    }
}

void Job::read_some_input() {
    if (m_block_source) {
        if (!m_block_source->read_block(m_block)) {
            m_source_done = true;
            return;
        }
        queue_read(m_block);
        return;
    }
    m_read_buffer.clear();
    if (!m_source->read_more(m_read_buffer)) {
        m_source_done = true;
        return;
    }
    std::size_t bytes = 0;
    for (const auto& data : m_read_buffer) bytes += data.size() + 1;
    m_block.bytes.reserve(bytes);
    m_block.items.reserve(m_read_buffer.size());
    for (auto& data : m_read_buffer) {
        m_block.add(0, data);
        // Freed as it goes: memory holds the items once, not twice.
        std::string().swap(data);
    }
    queue_read(m_block);
}

void Job::queue_read(ItemBlock& block) {
    for (auto& item : block.items) item.seq = ++m_read;
    m_queue.push_back(std::move(block));
    block = ItemBlock{};
}

bool Job::can_hand_out() const {
    if (m_queue.empty() || m_cancelled) return false;
    return m_window == 0 || m_handed_out - m_taken < m_window;
}

Chunk Job::take_chunk(std::size_t max) {
    auto block = m_queue.take(max == 0 ? m_chunksize : std::min(max, m_chunksize));
    m_handed_out += block.items.size();
    return Chunk{m_id, m_task, std::make_shared<const std::string>(std::move(block.bytes)), std::move(block.items),
                 false, std::nullopt};
}

void Job::requeue(ItemBlock items) {
    m_handed_out -= items.items.size();
    m_queue.push_front(std::move(items));
}

void Job::deliver(ResultRun run) {
    if (m_cancelled || run.empty()) return;
    // The run came straight from a worker: its entries are this job's alone to mark.
    auto& data = *run.data();
    std::size_t end = run.end_index();
    std::size_t from = run.begin_index();  // the first entry not yet filed
    if (data.all_plain && m_attempts.empty() && !m_on_complete && !m_halt.counts_successes()) {
        // The usual run: every task succeeded at its first attempt.
        m_completed += end - from;
        m_halt.add_successes(end - from);
        file(finished(run, from, end));
        return;
    }
    ItemBlock retry;
    for (std::size_t i = run.begin_index(); i < end; ++i) {
        auto& e = data.entries[i];
        bool ok = e.status == Status::ok;
        bool rerun = !ok && e.more >= 0 && data.more[static_cast<std::size_t>(e.more)].rerun;
        if ((m_retries > 0 || rerun || !m_attempts.empty()) &&
            (!ok || (!m_attempts.empty() && m_attempts.contains(e.seq)))) {
            auto it = m_attempts.try_emplace(e.seq, 1u).first;
            if (!ok && (it->second <= m_retries || (rerun && it->second <= m_retries + k_reruns))) {
                // Another attempt, first in line; its result keeps the item's place.
                ++it->second;
                --m_handed_out;
                retry.add(e.seq, data.input(i));
                file(finished(run, from, i));
                from = i + 1;
                continue;
            }
            if (it->second != 1) data.more_of(i).attempts = it->second;
            m_attempts.erase(it);
        }
        if (m_on_complete) m_on_complete(ResultRun(run.data(), i, i + 1).result(0));
        ++m_completed;
        if (!ok) ++m_failures;
        m_halt.add(ok);
        if (!m_halting && m_halt.reached(m_source_done ? std::optional(m_read) : std::nullopt) && halt(run, from, i))
            return;
    }
    file(finished(run, from, end));
    if (m_halting) {
        // Halting soon: a failed task is not tried again, and once the last
        // running task is in, what waits behind a gap goes out.
        if (in_flight() == 0) release_reorder();
        return;
    }
    m_queue.push_front(std::move(retry));
}

bool Job::halt(const ResultRun& run, std::size_t from, std::size_t i) {
    if (m_halt.when() == HaltRule::When::soon) {
        // Nothing more starts; the running tasks finish and are reported.
        m_halting = true;
        m_source_done = true;
        m_queue.clear();
        return false;
    }
    // Now: what finished goes out in order, this task last, and nothing more.
    file(finished(run, from, i));
    release_reorder();
    m_ready.push_back(finished(run, i, i + 1));
    m_halted_now = true;
    cancel("stopped by the halt rule");
    return true;
}

void Job::release_reorder() {
    for (auto& [seq, waiting] : m_reorder) m_ready.push_back(std::move(waiting));
    m_reorder.clear();
}

ResultRun Job::finished(const ResultRun& run, std::size_t from, std::size_t to) {
    ResultRun part(run.data(), from, to);
    if (m_on_results && !part.empty()) m_on_results(part);
    return part;
}

void Job::file(ResultRun run) {
    if (run.empty()) return;
    if (!m_ordered) {
        m_ready.push_back(std::move(run));
        return;
    }
    // A chunk's items follow one another unless retries or requeued items
    // mixed them: the run is cut where they do not.
    const auto& entries = run.data()->entries;
    if (run.data()->consecutive && run.first_seq() == m_next_emit && m_reorder.empty()) {
        m_next_emit += run.size();
        m_ready.push_back(std::move(run));
        return;
    }
    while (!run.empty()) {
        std::uint64_t first = run.first_seq();
        std::size_t n = 1;
        while (n < run.size() && entries[run.begin_index() + n].seq == first + n) ++n;
        auto part = run.take_front(n);
        if (first == m_next_emit && m_reorder.empty()) {
            // The usual case: next in order, nothing waiting behind a gap.
            m_next_emit += n;
            m_ready.push_back(std::move(part));
        } else {
            m_reorder.emplace(first, std::move(part));
        }
    }
    drain_reorder();
}

void Job::drain_reorder() {
    for (auto it = m_reorder.begin(); it != m_reorder.end() && it->first == m_next_emit; it = m_reorder.erase(it)) {
        m_next_emit += it->second.size();
        m_ready.push_back(std::move(it->second));
    }
}

std::optional<TaskResult> Job::take() {
    if (m_ready.empty()) return std::nullopt;
    ++m_taken;
    auto& run = m_ready.front();
    auto result = run.pop_result();
    if (run.empty()) m_ready.pop_front();
    return result;
}

std::optional<ResultRun> Job::take_batch() {
    if (m_ready.empty()) return std::nullopt;
    auto run = std::move(m_ready.front());
    m_ready.pop_front();
    m_taken += run.size();
    return run;
}

void Job::cancel(std::string why) {
    if (m_cancelled) return;
    m_cancelled = true;
    m_cancel_reason = std::move(why);
    m_queue.clear();
}

}  // namespace ppool::detail
