#pragma once

#include <string>
#include <vector>

namespace ppool {

/// Loads a plugin into the global task registry. Throws UsageError for a
/// missing file, a library that is not a ppool plugin, an incompatible
/// plugin interface version, or a task name registered twice. While the
/// plugin's load-time code runs, descriptor 1 is stderr (C stdio and
/// std::cout are flushed before and after), and an exit() or quick_exit()
/// it calls ends the process with "ppool: plugin 'PATH' called exit(N) while
/// loading" on stderr and status 2; _exit() cannot be caught.
void load_plugin(const std::string& path);

/// The plugins loaded so far, as they were named, in load order: a worker
/// that is not a forked copy of this process loads them too.
const std::vector<std::string>& loaded_plugins();

/// The plugins named by a colon-separated list (PPOOL_PLUGIN_PATH); empty
/// entries are skipped.
std::vector<std::string> split_plugin_path(const std::string& list);

}  // namespace ppool
