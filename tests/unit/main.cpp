#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "ppool/task.hpp"

#include <stdexcept>
#include <string>
#include <thread>
#include <fstream>
#include <unistd.h>

// Tasks the pool tests run in their workers; registered before any Pool forks.
PPOOL_REGISTER_TASK("test_square", "squares an integer", [](std::string_view item) {
    long long v = std::stoll(std::string(item));
    return std::to_string(v * v);
});
PPOOL_REGISTER_TASK("test_fail", "throws with the item in the message", [](std::string_view item) -> std::string {
    throw std::runtime_error("bad item " + std::string(item));
});
PPOOL_REGISTER_TASK("test_out_of_range", "throws std::out_of_range", [](std::string_view item) -> std::string {
    throw std::out_of_range("no such index: " + std::string(item));
});
PPOOL_REGISTER_TASK("test_sleep_ms", "sleeps the item's milliseconds, returns it", [](std::string_view item) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::stoll(std::string(item))));
    return std::string(item);
});

PPOOL_REGISTER_TASK("test_pid", "the worker's pid", [](std::string_view) { return std::to_string(::getpid()); });
PPOOL_REGISTER_TASK("test_record_init", "appends the worker's pid to the file named by the item",
                    [](std::string_view path) {
                        std::ofstream(std::string(path), std::ios::app) << ::getpid() << "\n";
                        return std::string();
                    });

int main(int argc, char** argv) {
    doctest::Context context(argc, argv);
    return context.run();
}
