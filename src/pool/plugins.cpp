#include "ppool/plugins.hpp"

#include "os/dynlib.hpp"
#include "os/load_guard.hpp"
#include "ppool/errors.hpp"
#include "ppool/plugin.hpp"

#include <fmt/format.h>
#include <set>

namespace ppool {

namespace {

std::vector<std::string>& plugin_paths() {
    static std::vector<std::string> paths;
    return paths;
}

void add_from_plugin(void* host, const char* name, const char* description, TaskFunction function) {
    static_cast<TaskRegistry*>(host)->add(name, description, std::move(function));
}

}  // namespace

void load_plugin(const std::string& path) {
    // The plugin's load-time code (static constructors, then PPOOL_PLUGIN's
    // body) runs inside ppool: it must not write into the results, nor end
    // ppool without a word.
    os::StdoutToStderr quiet;
    os::ExitTrap trap(fmt::format("ppool: plugin '{}' called ", path), " while loading", 2);
    os::SharedLibrary lib;
    try {
        lib = os::SharedLibrary::open(path);
    } catch (const std::exception& e) {
        throw UsageError(fmt::format("cannot load plugin '{}': {}", path, e.what()));
    }
    // The same library named twice (PPOOL_PLUGIN_PATH and --plugin) loads once.
    static std::set<const void*> loaded;
    if (!loaded.insert(lib.handle()).second) return;
    auto version = reinterpret_cast<int (*)()>(lib.symbol("ppool_plugin_api_version"));
    auto enter = reinterpret_cast<void (*)(PluginRegistry*)>(lib.symbol("ppool_plugin_register"));
    if (!version || !enter)
        throw UsageError(fmt::format("'{}' is not a ppool plugin (no PPOOL_PLUGIN entry point)", path));
    if (int v = version(); v != PPOOL_PLUGIN_API_VERSION)
        throw UsageError(fmt::format("plugin '{}' was built for plugin interface version {}, this ppool has version {}",
                                     path, v, PPOOL_PLUGIN_API_VERSION));
    PluginRegistry registry{&TaskRegistry::global(), add_from_plugin};
    try {
        enter(&registry);
    } catch (const UsageError& e) {
        throw UsageError(fmt::format("plugin '{}': {}", path, e.what()));
    } catch (const std::exception& e) {
        throw UsageError(fmt::format("plugin '{}' failed to register its tasks: {}", path, e.what()));
    }
    plugin_paths().push_back(path);
}

const std::vector<std::string>& loaded_plugins() { return plugin_paths(); }

std::vector<std::string> split_plugin_path(const std::string& list) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= list.size()) {
        auto colon = list.find(':', start);
        if (colon == std::string::npos) colon = list.size();
        if (colon > start) out.push_back(list.substr(start, colon - start));
        start = colon + 1;
    }
    return out;
}

}  // namespace ppool
