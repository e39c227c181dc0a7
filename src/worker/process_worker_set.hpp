#pragma once

#include <algorithm>
#include <chrono>
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

    /// Slots whose workers one launcher starts: a host's.
    struct HostSlots {
        std::unique_ptr<Launcher> launcher;
        std::size_t slots = 1;
        /// Grow to the CPU count that the host's first worker says in its hello.
        bool slots_from_hello = false;
        /// Another host: files go there and come back (--transfer, --return).
        bool remote = false;
    };

    /// The slots of every host, in order.
    ProcessWorkerSet(const PoolOptions& options, std::vector<HostSlots> hosts);
    ~ProcessWorkerSet() override;

    std::size_t size() const override { return m_workers.size(); }
    bool idle(std::size_t slot) const override;
    std::uint64_t budget(std::size_t slot) const override;
    void dispatch(std::size_t slot, detail::Chunk chunk) override;
    void send_dispatched() override;
    bool busy() const override;
    std::size_t running() const override;
    os::Wake wait(std::vector<detail::InputWatch>& inputs, std::optional<os::TimePoint> until,
                  detail::WorkerEvents& out) override;
    void terminate() override;
    void shutdown() override;

private:
    /// Whether a worker holds no chunk (or has none started yet).
    static bool free(const WorkerHandle& w) { return !w.alive() || (!w.has_chunk() && !w.retiring()); }
    /// Whether a usable slot of a host not given up is free.
    bool any_free_slot() const;
    /// Chunks quicker than this get a second one queued behind them (see idle).
    static constexpr auto k_quick_chunk = std::chrono::milliseconds(50);
    void on_frames(WorkerHandle& w, detail::WorkerEvents& out);
    /// Results of the next items of the worker's chunk.
    void on_results(WorkerHandle& w, std::string_view payload, detail::WorkerEvents& out);
    /// Gives the first result of `data` the output parts that came ahead of it.
    void store_apart(WorkerHandle& w, detail::RunData& data);
    void on_exit(WorkerHandle& w, detail::WorkerEvents& out);
    void on_hello(WorkerHandle& w, protocol::HelloMessage hello, detail::WorkerEvents& out);
    /// A part of a file the worker sends back for its running item (--return).
    void on_file(WorkerHandle& w, const protocol::FilePart& part);
    /// Whether the slot's host is another one.
    bool remote(std::size_t slot) const { return m_hosts[m_host_of[slot]].remote; }
    /// Everything a worker for `slot` is told before its first chunk.
    protocol::ConfigureMessage configure(std::size_t slot) const;
    void on_deadline(WorkerHandle& w, detail::WorkerEvents& out);
    void on_corrupt(WorkerHandle& w, const std::string& why, detail::WorkerEvents& out);
    void lose(WorkerHandle& w, TaskResult result, detail::WorkerEvents& out);
    /// The chunk waiting behind the worker's running one goes back to its job.
    void requeue_queued(WorkerHandle& w, detail::WorkerEvents& out);
    void replace(WorkerHandle& w);
    /// The launcher of the worker's host.
    Launcher& launcher_of(const WorkerHandle& w) const { return *m_hosts[m_host_of[w.slot()]].launcher; }
    /// Gives up the worker's host, which cannot run workers (`why`), when
    /// another can: its items go back, it is said once. False when it is the last.
    bool drop_host(WorkerHandle& w, const std::string& why, detail::WorkerEvents& out);
    /// Adds the slots hellos asked for (not while the workers are being walked).
    void grow();
    /// Hosts not given up.
    std::size_t live_hosts() const {
        return static_cast<std::size_t>(std::count_if(m_hosts.begin(), m_hosts.end(), [](const Host& h) { return !h.dead; }));
    }
    /// Starts the slot's worker; false (and fewer slots from now on) when a
    /// limit stops it while other workers run.
    bool start(std::size_t slot);
    /// SIGTERM to every worker and command, then waits out the grace period.
    void stop_gracefully();

    static constexpr std::size_t k_none = SIZE_MAX;
    PoolOptions m_options;
    struct Host {
        std::unique_ptr<Launcher> launcher;
        std::shared_ptr<const std::string> name;  // launcher->host(), shared by its results; none for ":"
        bool grow = false;  // to the CPU count of its first hello
        bool dead = false;
        bool remote = false;
    };
    std::vector<Host> m_hosts;
    std::vector<std::size_t> m_host_of;  // per slot
    std::vector<std::pair<std::size_t, std::size_t>> m_growth;  // (host, slots to add)
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
