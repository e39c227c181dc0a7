// The benchmark's plugin: the same work as the built-in `len`, loaded with
// --plugin, to show that a plugin task runs as fast as a built-in one.
#include <ppool/plugin.hpp>

PPOOL_PLUGIN(registry) {
    registry.add("plugin_len", "the item's length in bytes (from a plugin)",
                 [](std::string_view item) { return std::to_string(item.size()); });
}
