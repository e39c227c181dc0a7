// A plugin that registers a name a built-in task already has.
#include <ppool/plugin.hpp>

PPOOL_PLUGIN(registry) {
    registry.add("len", "clashes with the built-in len", [](std::string_view s) { return std::string(s); });
}
