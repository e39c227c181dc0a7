#pragma once

#include <sys/types.h>

#include "os/fd.hpp"

namespace ppool::worker {

/// A worker forked by the pool: sets the child process up, then reads its
/// configuration from the channel and serves it. Never returns.
[[noreturn]] void run_forked_worker(os::Fd from_parent, os::Fd to_parent, pid_t pool_pid);

/// `ppool worker --stdio`: a worker started by a launcher, speaking the
/// protocol on its stdin and stdout (its stderr is for diagnostics). Never returns.
[[noreturn]] void run_stdio_worker();

}  // namespace ppool::worker
