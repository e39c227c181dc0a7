// A plugin that ends the process while it loads: with PPOOL_TEST_EXIT_STATUS
// from PPOOL_PLUGIN's body, with PPOOL_TEST_EXIT_IN_CONSTRUCTOR from a static
// constructor that runs inside dlopen, with PPOOL_TEST_QUICK_EXIT by quick_exit.
#include <ppool/plugin.hpp>

#include <cstdlib>

namespace {

[[noreturn]] void leave() {
#ifdef PPOOL_TEST_QUICK_EXIT
    std::quick_exit(PPOOL_TEST_EXIT_STATUS);
#else
    std::exit(PPOOL_TEST_EXIT_STATUS);
#endif
}

#ifdef PPOOL_TEST_EXIT_IN_CONSTRUCTOR
const int k_leave_at_load = (leave(), 0);
#endif

}  // namespace

PPOOL_PLUGIN(registry) {
    leave();
    static_cast<void>(registry);
}
