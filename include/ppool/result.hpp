#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ppool {

/// How a task ended. Every status but `ok` is a failure of that item only:
/// the pool goes on with the others.
enum class Status {
    /// It succeeded: a command exited with status 0, a registered task returned.
    ok,
    /// A command exited with a non-zero status (TaskResult::exit_code). `error`
    /// is empty, unless the command could not be started at all ("cannot run
    /// 'NAME': ...", exit status 127 for a command not found, else 126).
    failed,
    /// It ran past the pool's task timeout and was stopped: a command's whole
    /// process group is killed, a registered task's worker killed and replaced.
    timeout,
    /// A command was killed by a signal (TaskResult::signal), not for a timeout.
    signal,
    /// The worker running it died (killed, or crashed in a registered task)
    /// or sent a corrupt message; `signal` or `exit_code` is the worker's.
    /// The task may or may not have run. A new worker takes its place.
    worker_lost,
    /// A registered task threw: `error` is the exception's message ("unknown
    /// exception" for one not derived from std::exception). Also an item that
    /// could not be run at all: an unknown task, no command could be built
    /// for it, a typed task's argument that does not decode or result that
    /// cannot be encoded (or, on the caller's side, decoded), or an output
    /// lost while it was being stored.
    error,
};

/// The JSON name of a status: "ok", "failed", "timeout", "signal", "worker_lost", "error".
std::string_view to_string(Status status);

/// Output too large to keep in memory, stored in an unlinked temporary file
/// that goes away with the last reference.
class LargeOutput {
public:
    virtual ~LargeOutput() = default;
    /// Its size in bytes.
    virtual std::uint64_t size() const = 0;
    /// Calls `block` with the bytes in order, a bounded piece at a time.
    virtual void for_each_block(const std::function<void(std::string_view)>& block) const = 0;
    /// All of it in memory.
    std::string read_all() const;
    /// Writes all of it to `fd` without copying it through this process
    /// (from a temporary file by sendfile), if it can: false when nothing was
    /// written and for_each_block is the way. Throws std::system_error when
    /// the write fails part way.
    virtual bool send_to(int fd) const {
        (void)fd;
        return false;
    }
};

/// The outcome of one task (one item).
struct TaskResult {
    std::uint64_t seq = 0;              ///< 1-based position of the item in its input
    std::string input;                  ///< the item
    Status status = Status::error;      ///< how it ended: what ok() and timed_out() derive from
    std::string output;                 ///< the task's result (a command's stdout)
    std::string stderr_text;            ///< a command's stderr
    bool is_command = false;            ///< whether stderr_text and exit_code apply
    std::optional<int> exit_code;       ///< a command's exit code, when it exited
    std::optional<int> signal;          ///< the signal that killed the command or worker
    std::string error;                  ///< why it failed; empty on success
    /// The type of the exception a registered task threw, as C++ spells it
    /// ("std::out_of_range"); empty otherwise (and for one not derived from std::exception).
    std::string error_type;
    double duration_s = 0;              ///< wall-clock run time inside the worker
    int worker = -1;                    ///< 0-based worker slot that ran it
    /// The host that ran it: ":" for this machine (GNU parallel's spelling),
    /// else as -S names it, without "N/" ("user@host:2222").
    std::string host = ":";
    unsigned attempts = 1;              ///< runs it took (more than 1 with retries)
    /// Set, with `output` empty, when the output was too large for memory.
    std::shared_ptr<const LargeOutput> large_output;
    /// Set, with `stderr_text` empty, when a command's stderr was too large for memory.
    std::shared_ptr<const LargeOutput> large_stderr;

    /// Whether the task succeeded.
    bool ok() const { return status == Status::ok; }
    /// Whether the task was stopped for running past its time limit.
    bool timed_out() const { return status == Status::timeout; }

    /// The whole output, read back into memory if it was stored on disk.
    std::string output_text() const { return large_output ? large_output->read_all() : output; }

    /// One line saying why the task failed ("exit status 1", "timed out after 2s", ...).
    std::string describe_failure() const;
};

}  // namespace ppool
