#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "worker/worker_set.hpp"
#include "ppool/pool.hpp"
#include "worker/worker_handle.hpp"

namespace ppool::detail {
struct RunData;
}  // namespace ppool::detail

namespace ppool::worker {

/// The real WorkerSet: forked worker processes, replaced when they die, time
/// out, or reach maxtasksperchild.
class ProcessWorkerSet final : public detail::WorkerSet {
public:
    /// How many workers this process's limits leave room for, at most
    /// `wanted` and at least 1, and the limit that holds it lower (empty when
    /// none does, or when not even one fits).
    struct Capacity {
        std::size_t workers;
        std::string limit;
    };
    /// `launcher` says what else a worker holds besides its channels.
    static Capacity capacity(std::size_t wanted, const Launcher& launcher);

    /// `processes` slots whose workers `launcher` starts.
    ProcessWorkerSet(const PoolOptions& options, int processes, std::unique_ptr<Launcher> launcher);
    ~ProcessWorkerSet() override;

    std::size_t size() const override { return m_workers.size(); }
    bool idle(std::size_t slot) const override;
    std::uint64_t budget(std::size_t slot) const override;
    void dispatch(std::size_t slot, detail::Chunk chunk) override;
    bool busy() const override;
    std::size_t running() const override;
    os::Wake wait(std::vector<detail::InputWatch>& inputs, std::optional<os::TimePoint> until,
                  detail::WorkerEvents& out) override;
    void terminate() override;
    void shutdown() override;

private:
    void on_frames(WorkerHandle& w, detail::WorkerEvents& out);
    /// Results of the next items of the worker's chunk.
    void on_results(WorkerHandle& w, std::string_view payload, detail::WorkerEvents& out);
    /// Gives the first result of `data` the output parts that came ahead of it.
    void store_apart(WorkerHandle& w, detail::RunData& data);
    void on_exit(WorkerHandle& w, detail::WorkerEvents& out);
    void on_hello(WorkerHandle& w, protocol::HelloMessage hello, detail::WorkerEvents& out);
    /// Everything a worker for `slot` is told before its first chunk.
    protocol::ConfigureMessage configure(std::size_t slot) const;
    void on_deadline(WorkerHandle& w, detail::WorkerEvents& out);
    void on_corrupt(WorkerHandle& w, const std::string& why, detail::WorkerEvents& out);
    void lose(WorkerHandle& w, TaskResult result, detail::WorkerEvents& out);
    void replace(WorkerHandle& w);
    /// Starts the slot's worker; false (and fewer slots from now on) when a
    /// limit stops it while other workers run.
    bool start(std::size_t slot);
    /// SIGTERM to every worker and command, then waits out the grace period.
    void stop_gracefully();

    static constexpr std::size_t k_none = SIZE_MAX;
    PoolOptions m_options;
    std::unique_ptr<Launcher> m_launcher;
    std::shared_ptr<OutputBudget> m_budget;
    std::vector<WorkerHandle> m_workers;
    os::PollSet m_poll;
    std::vector<std::size_t> m_read_index;
    std::vector<std::size_t> m_write_index;
    std::vector<std::size_t> m_exit_index;
    std::vector<std::size_t> m_err_index;
    std::size_t m_usable;                     // slots from here on are not used
    std::vector<detail::Chunk> m_returned;    // chunks no worker could be started for
    bool m_stopping = false;
};

}  // namespace ppool::worker
