// ppool with extra tasks that misbehave on purpose, for the end-to-end tests.
#include "ppool/cli.hpp"
#include "ppool/task.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>

PPOOL_REGISTER_TASK("crash", "raises SIGSEGV in the worker", [](std::string_view) -> std::string {
    std::raise(SIGSEGV);
    return {};
});
PPOOL_REGISTER_TASK("abort", "calls abort() in the worker", [](std::string_view) -> std::string { std::abort(); });
PPOOL_REGISTER_TASK("exit", "calls _exit(3) in the worker", [](std::string_view) -> std::string { ::_exit(3); });
PPOOL_REGISTER_TASK("throw", "throws std::runtime_error(\"boom: ITEM\")", [](std::string_view item) -> std::string {
    throw std::runtime_error("boom: " + std::string(item));
});
PPOOL_REGISTER_TASK("fail_on_bad", "throws for the item 'bad', returns any other item", [](std::string_view item) {
    if (item == "bad") throw std::runtime_error("bad item");
    return std::string(item);
});
PPOOL_REGISTER_TASK("log_and_fail_on_bad",
                    "appends the item to the file $PPOOL_TEST_LOG, then throws for the item 'bad', returns any other",
                    [](std::string_view item) {
                        const char* log = std::getenv("PPOOL_TEST_LOG");
                        if (!log) throw std::runtime_error("PPOOL_TEST_LOG is not set");
                        std::ofstream(log, std::ios::app) << item << "\n";
                        if (item == "bad") throw std::runtime_error("bad item");
                        return std::string(item);
                    });
PPOOL_REGISTER_TASK("pid", "the worker's pid", [](std::string_view) { return std::to_string(::getpid()); });
PPOOL_REGISTER_TASK("slow_first", "sleeps 2 s if the item is 1, else returns it", [](std::string_view item) {
    if (item == "1") std::this_thread::sleep_for(std::chrono::seconds(2));
    return std::string(item);
});
PPOOL_REGISTER_TASK("record_init", "appends the worker's pid to the file named by its argument",
                    [](std::string_view path) {
                        std::ofstream(std::string(path), std::ios::app) << ::getpid() << "\n";
                        return std::string();
                    });
PPOOL_REGISTER_TASK("fail_init", "an initializer that always fails", [](std::string_view) -> std::string {
    throw std::runtime_error("init failed on purpose");
});

PPOOL_REGISTER_TASK("close_stdout", "closes the worker's stdout, then returns the item", [](std::string_view item) {
    ::close(1);
    return std::string(item);
});
PPOOL_REGISTER_TASK("scribble_stdout", "writes junk to the worker's stdout, then returns the item",
                    [](std::string_view item) {
                        [[maybe_unused]] auto n = ::write(1, "junk\x01\xff\n", 7);
                        return std::string(item);
                    });
PPOOL_REGISTER_TASK("scribble_protocol", "for the item 'bad', writes junk to every descriptor above 2 (the worker's pipes)",
                    [](std::string_view item) {
                        if (item == "bad")
                            for (int fd = 3; fd < 64; ++fd) [[maybe_unused]] auto n = ::write(fd, "\x09garbage-frame", 15);
                        return std::string(item);
                    });
PPOOL_REGISTER_TASK("close_protocol", "for the item 'bad', closes every descriptor above 2 (the worker's pipes)",
                    [](std::string_view item) {
                        if (item == "bad")
                            for (int fd = 3; fd < 64; ++fd) ::close(fd);
                        return std::string(item);
                    });

PPOOL_REGISTER_TASK("orphan",
                    "forks a child that waits forever with the worker's descriptors open and returns its pid; "
                    "then, for the item 'crash', raises SIGSEGV, and for 'hang', sleeps 60 s",
                    [](std::string_view item) {
                        pid_t child = ::fork();
                        if (child == 0) {
                            for (;;) ::pause();
                        }
                        if (item == "crash") std::raise(SIGSEGV);
                        if (item == "hang") {
                            // Tell the test the child exists before hanging.
                            std::fprintf(stderr, "orphan %d\n", static_cast<int>(child));
                            std::this_thread::sleep_for(std::chrono::seconds(60));
                        }
                        return std::to_string(child);
                    });

int main(int argc, char** argv) { return ppool::cli::run(argc, argv); }
