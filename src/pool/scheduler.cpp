#include "pool/scheduler.hpp"

#include <algorithm>

namespace ppool::detail {

std::optional<Chunk> Scheduler::next_chunk(std::uint64_t budget) {
    for (auto& job : m_jobs)
        if (job->can_hand_out()) return job->take_chunk(static_cast<std::size_t>(budget));
    return std::nullopt;
}

bool Scheduler::has_work() const {
    return std::any_of(m_jobs.begin(), m_jobs.end(), [](const auto& job) { return job->can_hand_out(); });
}

Job* Scheduler::find(std::uint64_t id) {
    for (auto& job : m_jobs)
        if (job->id() == id) return job.get();
    return nullptr;
}

void Scheduler::prune() {
    std::erase_if(m_jobs, [](const auto& job) { return job->finished(); });
}

void Scheduler::cancel_all(const std::string& why) {
    for (auto& job : m_jobs) job->cancel(why);
    m_jobs.clear();
}

}  // namespace ppool::detail
