#pragma once

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <sys/types.h>
#include <vector>

#include "os/fd.hpp"
#include "os/process.hpp"

namespace ppool::worker {

/// A worker could not be started (no process, descriptor or memory left, or
/// the launcher's command cannot run): its message says what was being done
/// and what to try.
class StartError : public std::runtime_error {
public:
    StartError(int error, const std::string& call);
    /// "fork: Resource temporarily unavailable"
    const std::string& reason() const { return m_reason; }
    /// Whether a limit was reached (a later start may succeed), not a fault.
    bool limit_reached() const { return m_limit_reached; }

private:
    std::string m_reason;
    bool m_limit_reached;
};

/// A worker that no local process stands for (one of a hub's, many over one
/// channel): how the pool stops it and learns how it ended.
class WorkerProcess {
public:
    virtual ~WorkerProcess() = default;
    /// Kills it now, with what its group holds; it counts as killed by SIGKILL.
    virtual void kill() = 0;
    /// Blocks until it has ended, and says how.
    virtual os::ExitStatus wait() = 0;
    /// The last line its launcher wrote on stderr, or empty.
    virtual std::string last_words() const { return {}; }
};

/// A started worker as the pool sees it: the local process that stands for it
/// (the worker itself, or the launcher's command), or else its `process`, and its channel.
struct LaunchedWorker {
    pid_t pid = -1;
    os::Fd to;    ///< the worker's input: a socket, written without SIGPIPE
    os::Fd from;  ///< the worker's output
    os::Fd err;   ///< the launcher's stderr, to pass on and to quote when it fails; none for fork
    std::shared_ptr<WorkerProcess> process;  ///< when pid is -1
};

/// A worker's channel, both directions: `down` a socket pair (the pool's
/// writes never raise SIGPIPE), `up` a pipe. Throws StartError.
struct Channel {
    os::Pipe down;  ///< pool -> worker
    os::Pipe up;    ///< worker -> pool
};
Channel make_channel();

/// Starts workers (SPEC 9). The pool is handed one and knows no other way.
class Launcher {
public:
    virtual ~Launcher() = default;
    /// Starts a worker that waits for its configure message; throws StartError.
    virtual LaunchedWorker launch() = 0;
    /// How messages name it: "fork", "exec", "the launcher 'CMD'".
    virtual const std::string& name() const = 0;
    /// The host its workers run on, as results name it: ":" for this
    /// machine (GNU parallel's spelling), else the host's login or name.
    virtual const std::string& host() const;
    /// Whether the process it starts is a command of the user's that starts
    /// the worker, whose exit status and last words are worth quoting.
    virtual bool runs_a_command() const { return false; }
    /// Descriptors the pool holds for each worker beyond its channel and pidfd
    /// (the launcher's stderr).
    virtual std::size_t extra_descriptors() const { return 0; }
    /// Whether launch() may be called now: a launcher whose workers come
    /// from elsewhere (lent by a server) has none to give at times.
    virtual bool can_launch() const { return true; }
    /// A descriptor that becomes readable when a worker can be launched
    /// again, for the pool's wait; -1 for none.
    virtual int ready_fd() const { return -1; }
    /// Called when ready_fd() is readable: takes what came, so that it is
    /// not readable again until more comes.
    virtual void on_ready() {}
    /// Why no worker can come from it any more (the server that lent them
    /// went away), or empty: a worker lost then stops the pool with it.
    virtual std::string lost() const { return {}; }
};

/// Runs `argv` as a worker's launcher: the channel on its stdin and stdout,
/// in a process group of its own, its stderr kept for the pool. Its stdin is
/// a socket, or with `pipe_input` a pipe (whose writer must not take SIGPIPE).
/// Throws StartError.
LaunchedWorker launch_command(const std::vector<std::string>& argv, bool pipe_input = false);

/// The launcher a PoolOptions::launcher value names: "" or "fork" (forked
/// copies of this process), "exec" (this program run again as `PROGRAM worker
/// --stdio`), or a shell command that starts `ppool worker --stdio`.
std::unique_ptr<Launcher> make_launcher(const std::string& spec);

/// The running program's path, to run again as a worker.
std::string this_program();

}  // namespace ppool::worker
