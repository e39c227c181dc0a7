#pragma once

#include "os/fd.hpp"
#include "ppool/pool.hpp"

namespace ppool::worker {

/// The worker process: runs the initializer, then loops reading a chunk,
/// running each item and writing one result frame per item, until the
/// parent closes the pipe. Runs only in a forked child; never returns.
[[noreturn]] void worker_main(int slot, const PoolOptions& options, os::Fd from_parent, os::Fd to_parent);

}  // namespace ppool::worker
