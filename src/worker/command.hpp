#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "os/process.hpp"

namespace ppool::worker {

/// One command run inside a worker.
struct CommandSpec {
    std::vector<std::string> argv;
    std::vector<std::string> env;
    /// Written to the command's stdin (then closed); without it stdin is /dev/null.
    std::optional<std::string_view> stdin_data;
    std::optional<double> timeout;     ///< seconds; expiry stops the whole process group
    double kill_grace = 2.0;           ///< seconds between SIGTERM and SIGKILL
    int null_fd = -1;                  ///< /dev/null open for reading, kept by the caller (else opened here)
    int parent_fd = -1;                ///< hang-up here means the pool is gone: stop
    /// Called with stdout (stream 1) or stderr (stream 2) once either holds
    /// `part_bytes`; it takes the bytes (and clears them), so a command's
    /// output never piles up in the worker.
    std::function<void(int stream, std::string& data)> on_output;
    std::size_t part_bytes = 64 << 10;
    /// Once stdout has come in parts, and none of it is held here: called
    /// when its pipe `fd` holds at least `part_bytes`, to take `n` (that
    /// many) bytes straight from it, the pages moved rather than copied through this
    /// process. False leaves them to be read as usual.
    std::function<bool(int fd, std::size_t n)> take_output;
};

/// How the command went.
struct CommandOutcome {
    os::ExitStatus exit;
    int spawn_error = 0;       ///< errno of a failed exec; exit then holds 126/127
    bool timed_out = false;
    bool stop_worker = false;  ///< the worker was told to stop (SIGTERM or pool gone)
    std::string out;
    std::string err;
};

/// Runs the command in its own process group with stdin from /dev/null (or
/// fed from `stdin_data`, as far as the command reads it),
/// capturing stdout and stderr, enforcing the timeout (TERM to the group,
/// KILL after the grace period). When the command's leader exits, what is left
/// of its group is killed: no process started for a task outlives it.
CommandOutcome run_command(const CommandSpec& spec);

/// Installs the worker's SIGTERM handler: it forwards SIGTERM to the running
/// command's group and makes run_command stop; with no command running, the
/// worker exits at once.
void install_worker_term_handler();
/// Lets SIGTERM through (after install_worker_term_handler and the mask reset).
void unblock_worker_term();

}  // namespace ppool::worker
