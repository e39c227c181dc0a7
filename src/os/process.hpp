#pragma once

#include <string>
#include <initializer_list>
#include <sys/types.h>

namespace ppool::os {

/// How a process ended.
struct ExitStatus {
    int code = -1;    ///< exit code, or -1 when killed by a signal
    int signal = 0;   ///< terminating signal, or 0
    bool ok() const { return code == 0; }
};

/// Decodes a waitpid status.
ExitStatus decode_wait_status(int status);

/// Waits for `pid` (retrying on EINTR) and returns how it ended.
ExitStatus wait_for(pid_t pid);


/// The one place that signals whole process groups: sends `sig` to every
/// process of group `pgid`; a vanished group is not an error.
void signal_group(pid_t pgid, int sig);

/// Sends `sig` to one process; a vanished process is not an error.
void signal_process(pid_t pid, int sig);

/// "SIGKILL"-style name of a signal, or "signal N".
std::string signal_name(int sig);

/// Arranges for this process to get `sig` when its parent dies.
void die_with_parent(int sig);

/// Makes this process the leader of a process group of its own, so that what
/// it starts without a group of its own can be stopped with it, and a signal
/// to the group it came from does not reach it. Remembers that group.
void lead_own_group();

/// For a child that stays in the group its parent leads: exit_with_group
/// then ends this process alone.
void forget_own_group();

/// Makes `pid`, a child of this process, the leader of a group of its own
/// (the child may have done so already).
void give_own_group(pid_t pid);

/// Ends this process with `status` after killing (SIGKILL) every other
/// process of the group it leads: it first moves back to the group it came
/// from, so its own exit status is kept (where that group has gone, the
/// process ends by the same SIGKILL). Async-signal-safe.
[[noreturn]] void exit_with_group(int status);

/// Waits for `pid` to end, kills (SIGKILL) what is left of the process group
/// it leads while its zombie still holds the group id, then reaps it.
ExitStatus reap_with_group(pid_t pid);

}  // namespace ppool::os

namespace ppool::os {

/// Whether `pid` has ended, without reaping it (so its pid and process group
/// id stay reserved until `wait_for`).
bool has_ended(pid_t pid);

/// A descriptor that becomes readable when `pid` ends (pidfd), or -1 when the
/// kernel has none.
int open_pidfd(pid_t pid);

/// Sends `sig` to the process of a pidfd, which need not be a child; one
/// that has ended already is not an error.
void signal_pidfd(int pidfd, int sig);

/// Blocks until the process of a pidfd has ended (its parent reaps it).
void wait_for_pidfd(int pidfd);

/// Closes every descriptor from 3 up except those in `keep`.
void close_fds_except(std::initializer_list<int> keep);

}  // namespace ppool::os
