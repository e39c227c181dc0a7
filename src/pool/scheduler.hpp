#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "pool/job.hpp"

namespace ppool::detail {

/// The hand-out policy: jobs are served first come, first served; a job held
/// back by its window lets the jobs behind it go ahead rather than stall the pool.
class Scheduler {
public:
    void add(std::shared_ptr<Job> job) { m_jobs.push_back(std::move(job)); }
    /// The next chunk for a worker that may run `budget` more tasks (0: any).
    std::optional<Chunk> next_chunk(std::uint64_t budget);
    /// Whether `next_chunk` would return a chunk now.
    bool has_work() const;
    /// The live job with this id, or nullptr.
    Job* find(std::uint64_t id);
    /// The jobs not yet finished, oldest first.
    const std::vector<std::shared_ptr<Job>>& jobs() const { return m_jobs; }
    /// Forgets finished jobs (their owners keep them alive for the results).
    void prune();
    /// Cancels every job with `why`.
    void cancel_all(const std::string& why);

private:
    std::vector<std::shared_ptr<Job>> m_jobs;
};

}  // namespace ppool::detail
