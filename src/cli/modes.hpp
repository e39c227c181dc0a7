#pragma once

#include "cli/options.hpp"

namespace ppool::cli {

/// Runs the parsed command line; returns the exit status.
int run_mode(const Options& options);

}  // namespace ppool::cli
