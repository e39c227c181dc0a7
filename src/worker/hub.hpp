#pragma once

namespace ppool::worker {

/// `ppool worker --hub`: serves many workers over one channel on stdin and
/// stdout (protocol/mux.hpp), forking a worker for every `open` and passing
/// each one's bytes both ways. What a Slurm node runs, once, in one `srun`
/// step for all its slots. When its channel closes, it closes every worker's
/// (each stops its task as a worker does on a hangup), waits for them, and
/// kills what is left. Never returns.
[[noreturn]] void run_hub();

}  // namespace ppool::worker
