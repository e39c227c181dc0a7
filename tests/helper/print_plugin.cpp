// A plugin that writes to stdout while it loads (from a static constructor
// and from PPOOL_PLUGIN's body, with printf, std::cout and write(1)), and
// whose task "noisy" does the same each time it runs.
#include <ppool/plugin.hpp>

#include <cstdio>
#include <iostream>
#include <string>
#include <unistd.h>

namespace {

void print_everywhere(const char* when) {
    std::printf("printf %s\n", when);
    std::cout << "cout " << when << "\n";
    std::string line = std::string("write ") + when + "\n";
    [[maybe_unused]] auto n = ::write(1, line.data(), line.size());
}

const int k_printed_at_load = (print_everywhere("at dlopen"), 0);

}  // namespace

PPOOL_PLUGIN(registry) {
    print_everywhere("while registering");
    registry.add("noisy", "prints to stdout, returns the item's length", [](std::string_view s) {
        print_everywhere("in a task");
        return std::to_string(s.size());
    });
}
