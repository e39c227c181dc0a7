#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <sys/types.h>
#include <vector>

#include "os/event_loop.hpp"
#include "os/fd.hpp"
#include "os/process.hpp"
#include "worker/chunk.hpp"
#include "os/file_parts.hpp"
#include "protocol/frame.hpp"
#include "protocol/messages.hpp"
#include "protocol/session.hpp"
#include "worker/launcher.hpp"
#include "worker/line_relay.hpp"
#include "worker/spool.hpp"

namespace ppool::worker {

/// The parent's handle on one worker process: its pipes (non-blocking), the
/// chunk it holds and the deadline of the item it is running. Never blocks.
class WorkerHandle {
public:
    /// Starts a worker for `slot` with `launcher` and queues `configure`
    /// (everything it needs) as its first frame; its outputs count against
    /// `budget`. Throws StartError.
    static WorkerHandle start(int slot, Launcher& launcher, const protocol::ConfigureMessage& configure,
                              const std::shared_ptr<OutputBudget>& budget);

    /// A slot with no process yet; `start` gives it one when work arrives.
    static WorkerHandle unstarted(int slot) {
        WorkerHandle handle;
        handle.m_slot = slot;
        return handle;
    }

    WorkerHandle() = default;
    WorkerHandle(WorkerHandle&&) = default;
    WorkerHandle& operator=(WorkerHandle&&) = default;

    /// The local process that stands for the worker, or -1 for a hub's worker.
    pid_t pid() const { return m_pid; }
    int slot() const { return m_slot; }
    bool alive() const { return m_pid > 0 || m_process; }
    bool has_chunk() const { return m_chunk.has_value(); }
    /// Whether a chunk waits behind the running one (see dispatch).
    bool has_queued() const { return m_queued.has_value(); }
    /// How long its last whole chunk took, from its start to its last result; none before one.
    std::optional<os::Clock::duration> last_chunk_time() const { return m_last_chunk_time; }
    /// Items handed out whose results have not come: the running chunk's and the queued one's.
    std::size_t in_flight() const { return unreported() + (m_queued ? m_queued->size() : 0); }
    bool retiring() const { return m_retiring; }
    bool ready() const { return m_ready; }
    std::uint64_t tasks_done() const { return m_tasks_done; }
    int read_fd() const { return m_from.get(); }
    int write_fd() const { return m_to.get(); }
    /// Readable once the worker process has ended (-1 where the kernel has no
    /// pidfd): a process the worker left behind may hold its pipe open.
    int exit_fd() const { return m_pidfd.get(); }
    /// The launcher's stderr (-1 for a forked worker).
    int stderr_fd() const { return m_err.get(); }
    /// Passes on the whole lines the launcher wrote to its stderr (all of it
    /// `to_the_end`), keeping its last line.
    void relay_stderr(bool to_the_end = false);
    /// The last line the launcher wrote to its stderr, or empty.
    std::string last_stderr_line() const;
    /// The worker's hello, once it came.
    const std::optional<protocol::HelloMessage>& hello() const { return m_hello; }
    void set_hello(protocol::HelloMessage hello) { m_hello = std::move(hello); }
    bool wants_write() const { return m_to && (m_piece < m_out.pieces.size() || m_run_pending); }
    std::optional<os::TimePoint> deadline() const { return m_deadline; }
    const detail::Chunk* chunk() const { return m_chunk ? &*m_chunk : nullptr; }

    /// Queues the chunk's frame and starts the clock of its first item; the
    /// files `transfer` names for each item (templates) go ahead of it. To a
    /// worker that has a chunk, the chunk is sent at once and waits there
    /// behind it (one at most, and never one with files): its clock starts
    /// when the one before ends, and the round trip to a remote worker is not
    /// waited for between chunks.
    /// The limit of the items of the chunk last dispatched, if any.
    std::optional<double> timeout() const { return m_timeout; }
    void dispatch(detail::Chunk chunk, std::optional<double> timeout, double grace,
                  const std::vector<std::string>& transfer = {});
    /// Writes what the pipe takes; false if the worker is gone.
    bool flush();
    /// Reads what is there into the frame reader; false at end of file.
    bool fill();
    /// Reads everything the pipe holds (the worker has ended); false at end of file.
    bool fill_all();
    /// Reads and drops what the pipe holds, without allocating; false at end of file.
    bool discard_input();
    protocol::FrameReader& reader() { return m_reader; }

    /// Where the running item's stdout and stderr parts collect.
    Spool& stdout_spool() { return m_stdout; }
    Spool& stderr_spool() { return m_stderr; }
    /// Where a file the worker sends back (--return) is written.
    os::IncomingFile& returning() { return m_returning; }
    /// Whether the file being returned could not be written here (its other parts are dropped).
    bool& returning_failed() { return m_returning_failed; }
    /// The sequence number of the running item, or 0.
    std::uint64_t running_seq() const;

    /// Marks that the worker reported ready.
    void set_ready() { m_ready = true; }
    /// Items of the chunk whose results have not come yet.
    std::size_t unreported() const { return m_chunk ? m_chunk->size() - m_next : 0; }
    /// The index in the chunk of the running item (the first not reported).
    std::size_t next_index() const { return m_next; }
    /// Takes `count` items off the chunk (their results came) and starts the
    /// next item's clock, which has run `running_ns` already.
    void finish_items(std::size_t count, std::uint64_t running_ns = 0);
    /// Items of the chunk after the running one, taken off it for requeueing.
    detail::ItemBlock take_rest();
    /// The queued chunk, taken for requeueing, if there is one.
    std::optional<detail::Chunk> take_queued();
    /// Closes the pipe to the worker so that it exits once idle.
    void retire();
    /// Kills the worker (and its command group) now and reaps it.
    os::ExitStatus kill_and_reap();
    /// Reaps a worker that is exiting by itself.
    os::ExitStatus reap();

private:
    void arm_deadline(std::uint64_t running_ns = 0);
    /// Queues the chunk's run frame.
    void queue_run(const detail::Chunk& chunk);
    /// Once everything queued is sent: queues the next part of the files
    /// that go ahead of the chunk, or after the last of them its run frame.
    /// False when nothing is left to queue.
    bool refill();

    pid_t m_pid = -1;
    std::shared_ptr<WorkerProcess> m_process;  // a hub's worker, when no local process stands for it
    int m_slot = 0;
    os::Fd m_to;
    os::Fd m_from;
    os::Fd m_pidfd;
    os::Fd m_err;
    LineRelay m_err_relay;
    std::optional<protocol::HelloMessage> m_hello;
    protocol::FrameReader m_reader{protocol::FrameReader::k_from_worker};
    protocol::Gather m_out;
    std::size_t m_piece = 0;
    std::size_t m_offset = 0;
    // --transfer: the files (item, path) still to send ahead of the chunk's
    // run frame, read a part at a time as the channel takes them; the one
    // being read; the run frame waits for them.
    std::deque<std::pair<std::uint64_t, std::string>> m_files;
    std::optional<os::OutgoingFile> m_file;
    bool m_run_pending = false;
    std::optional<detail::Chunk> m_chunk;
    std::optional<detail::Chunk> m_queued;  // sent behind m_chunk, not started
    os::TimePoint m_chunk_start{};          // when m_chunk started
    std::optional<os::Clock::duration> m_last_chunk_time;
    std::size_t m_next = 0;  // the first item with no result yet
    std::optional<double> m_timeout;
    double m_grace = 0;
    std::optional<os::TimePoint> m_deadline;
    Spool m_stdout;
    Spool m_stderr;
    os::IncomingFile m_returning;
    bool m_returning_failed = false;
    std::uint64_t m_tasks_done = 0;
    bool m_ready = false;
    bool m_retiring = false;
    // Command tasks the worker knows (its configure message, task frames
    // since): another is sent in a task frame ahead of its first run frame.
    std::set<std::string, std::less<>> m_known_commands;
};

}  // namespace ppool::worker
