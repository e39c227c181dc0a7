#pragma once

// The interface between ppool and a plugin: a shared library that adds tasks.
// A plugin includes only this header, defines its tasks, and registers them
// in PPOOL_PLUGIN's body; ppool loads it with --plugin (or PPOOL_PLUGIN_PATH)
// before it forks its workers, so every worker has the tasks.
//
//     #include <ppool/plugin.hpp>
//     PPOOL_PLUGIN(registry) {
//         registry.add("reverse", "the item backwards", [](std::string_view s) {
//             return std::string(s.rbegin(), s.rend());
//         });
//     }
//
// Build: c++ -std=c++20 -shared -fPIC -o libmytasks.so mytasks.cpp
//
// Load-time code (static constructors and PPOOL_PLUGIN's body) writes to
// stdout only as far as ppool's stderr, and an exit() there stops ppool with
// an error naming the plugin; a task's prints to stdout go to stderr too.

#include <string>
#include <string_view>
#include <utility>

#include "ppool/task.hpp"

/// Bumped whenever this header's interface changes incompatibly; a plugin
/// built for another version is refused with a clear error.
#define PPOOL_PLUGIN_API_VERSION 1

namespace ppool {

/// What a plugin registers its tasks with: a table of host functions, so
/// that the plugin needs no ppool symbols at link or load time.
struct PluginRegistry {
    /// The host's registry, handed back to `add_task`.
    void* host = nullptr;
    /// The host's function behind add(); ppool sets it before the plugin's body runs.
    void (*add_task)(void* host, const char* name, const char* description, TaskFunction function) = nullptr;

    /// Adds a task (also usable as an initializer with `--init-task`). A name
    /// that is already taken makes the plugin fail to load.
    void add(const std::string& name, const std::string& description, TaskFunction function) {
        add_task(host, name.c_str(), description.c_str(), std::move(function));
    }
};

}  // namespace ppool

/// Defines the plugin's entry points; the body registers the tasks.
#define PPOOL_PLUGIN(registry)                                                              \
    extern "C" int ppool_plugin_api_version() { return PPOOL_PLUGIN_API_VERSION; }          \
    static void ppool_plugin_body(::ppool::PluginRegistry& registry);                       \
    extern "C" void ppool_plugin_register(::ppool::PluginRegistry* r) { ppool_plugin_body(*r); } \
    static void ppool_plugin_body(::ppool::PluginRegistry& registry)
