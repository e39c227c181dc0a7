#pragma once

#include <string>
#include <vector>

namespace ppool {

/// Loads a plugin into the global task registry. Throws UsageError for a
/// missing file, a library that is not a ppool plugin, an incompatible
/// plugin interface version, or a task name registered twice.
void load_plugin(const std::string& path);

/// The plugins named by a colon-separated list (PPOOL_PLUGIN_PATH); empty
/// entries are skipped.
std::vector<std::string> split_plugin_path(const std::string& list);

}  // namespace ppool
