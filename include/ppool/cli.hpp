#pragma once

namespace ppool::cli {

/// The whole `ppool` command: parses argv, runs the mode, and returns the
/// exit status (0 ok, 1 a task failed, 2 usage error, 128+N signal). A
/// program that embeds ppool registers its tasks and calls this from main.
int run(int argc, char** argv);

}  // namespace ppool::cli
