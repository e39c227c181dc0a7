#pragma once

#include <optional>
#include <sys/types.h>

#include "os/event_loop.hpp"
#include "os/process.hpp"
#include "os/spawn.hpp"

namespace ppool::os {

/// Like spawn, for a helper that must not outlive this process even when it
/// is killed with SIGKILL: the child gets `death_signal` when the thread that
/// started it ends (the parent-death signal, which posix_spawn cannot set),
/// so start it from a thread that lives as long as it should. argv[0] is
/// looked up in this process's PATH. An exec failure is returned as `error`.
SpawnResult spawn_tied(const SpawnRequest& request, int death_signal);

/// Waits until `pid`, a child of this process, has ended or `deadline` has
/// passed, without reaping it. True when it has ended. A signal caught by
/// the SignalCatcher ends the wait early (false), for the caller to see.
bool wait_for_end(pid_t pid, TimePoint deadline);

/// Waits for `pid`, a child, to end by `deadline` and reaps it; nothing when
/// it is still running then.
std::optional<ExitStatus> reap_by(pid_t pid, TimePoint deadline);

}  // namespace ppool::os
