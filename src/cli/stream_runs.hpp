#pragma once

#include "cli/options.hpp"
#include "cli/sink.hpp"
#include "ppool/pool.hpp"

namespace ppool::cli {

/// Whether the output may take results a run at a time (see ResultIterator::next_batch):
/// not when a sink must see every item (--tag rewrites each output line).
bool runs_wanted(const Options& options);

/// Streams results as they come, runs whole; flushes whenever it would
/// otherwise wait. The exit status: 1 if a task failed, else 0.
int stream_runs(ResultIterator& results, Sink& sink);

/// Text output of a run: its buffer as it is, taking every result.
void write_run_text(OutputBuffer& out, ResultRun& run);

}  // namespace ppool::cli
