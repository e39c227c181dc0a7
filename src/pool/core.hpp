#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "os/event_loop.hpp"
#include "os/jobserver.hpp"
#include "pool/median.hpp"
#include "pool/pacer.hpp"
#include "pool/scheduler.hpp"
#include "worker/worker_set.hpp"
#include "ppool/pool.hpp"

namespace ppool::detail {

/// The pool's engine: the scheduler's policy driven over a WorkerSet by one
/// loop. Single-threaded; every waiting call of the public API runs `run_until`.
class Core {
public:
    /// With `options.make_jobserver`, limits the tasks running at once by the
    /// jobserver MAKEFLAGS names, if there is one.
    Core(PoolOptions options, std::unique_ptr<WorkerSet> workers);
    /// Limits the tasks running at once by `jobserver` (none: no limit); for tests.
    Core(PoolOptions options, std::unique_ptr<WorkerSet> workers, std::optional<os::Jobserver> jobserver);
    /// Paces the starts by what `readers` say of the machine; for tests.
    Core(PoolOptions options, std::unique_ptr<WorkerSet> workers, Pacer::Readers readers);
    ~Core();

    /// Queues a job of `task` (which must outlive it); throws Error if the pool is closed or broken.
    std::shared_ptr<Job> submit(const TaskInfo& task, std::unique_ptr<ItemSource> items, std::size_t chunksize,
                                bool ordered, std::size_t window, HaltRule halt = {});
    /// Drives the pool until `done()` holds (true) or the deadline passes (false).
    /// Throws Interrupted on a caught signal and InitializerError if the pool broke.
    bool run_until(const std::function<bool()>& done, std::optional<os::TimePoint> deadline);

    /// Runs `on_ready` after each wait in which `fd` is readable (or, with
    /// `writable`, writable), with the loop's callback rules (it may submit,
    /// never wait). Replaces a watch of the same fd.
    void watch(int fd, std::function<void()> on_ready, bool writable = false) {
        m_watches[fd] = Watch{std::move(on_ready), writable};
    }
    void unwatch(int fd) { m_watches.erase(fd); }
    /// Slots running a chunk now.
    std::size_t running() const { return m_workers->running(); }

    void close() { m_closed = true; }
    void terminate();
    void join();
    const PoolOptions& options() const { return m_options; }
    std::size_t processes() const { return m_workers->size(); }

private:
    /// One turn of the loop; false when nothing was running or readable.
    bool step(std::optional<os::TimePoint> deadline);
    void hand_out();
    /// Dispatches chunks to every slot that takes one; hand_out then sends them.
    void fill_slots();
    /// Whether a task may start now by the pace (GNU parallel's --delay,
    /// --load, --memfree); if not, m_pace_wake says when to look again.
    bool may_start();
    /// Sets the chunk's limit by the median run time (--timeout N%).
    void time_chunk(Chunk& chunk) const;
    /// Notes the run times of tasks that succeeded (--timeout N%).
    void note_run_times(const ResultRun& run);
    /// Whether one more slot may start a chunk: the first running slot needs
    /// no token, every further one holds a token while it runs.
    bool take_token();
    /// Gives back at once the tokens of slots that stopped running.
    void return_tokens();
    std::vector<InputWatch> read_memory_inputs();
    void apply(WorkerEvents& events);
    void fail(const std::string& why);
    /// Forgets finished jobs, first calling their on_finished hooks (callbacks).
    void settle();
    /// Runs the watches of the readable descriptors among `inputs`.
    void run_watches(const std::vector<InputWatch>& inputs);

    PoolOptions m_options;
    std::unique_ptr<WorkerSet> m_workers;
    Scheduler m_scheduler;
    std::optional<os::Jobserver> m_jobserver;
    bool m_token_wait = false;  ///< the hand-out stopped for want of a token
    Pacer m_pacer;
    std::optional<os::TimePoint> m_pace_wake;  ///< the pace held a task back until then
    RunningMedian m_run_times;                 ///< of the tasks that succeeded
    WorkerEvents m_events;
    std::uint64_t m_next_job = 1;
    bool m_closed = false;
    bool m_terminated = false;
    bool m_in_callback = false;
    std::string m_broken;
    struct Watch {
        std::function<void()> on_ready;
        bool writable = false;
    };
    std::map<int, Watch> m_watches;
};

/// Converts a relative timeout to a deadline.
std::optional<os::TimePoint> deadline_after(Timeout timeout);

}  // namespace ppool::detail
