#include <doctest/doctest.h>

#include "pool/builtins.hpp"
#include "ppool/task.hpp"

#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <unistd.h>

using namespace ppool;

namespace {
std::string call(const char* name, std::string_view item) {
    const TaskInfo* task = TaskRegistry::global().find(name);
    REQUIRE(task);
    return task->function(item);
}
}  // namespace

TEST_CASE("string built-ins") {
    CHECK(call("identity", "a b") == "a b");
    CHECK(call("len", "h\xc3\xa9") == "3");
    CHECK(call("upper", "abC1") == "ABC1");
    CHECK(call("lower", "AbC1") == "abc1");
    CHECK(call("sleep", "0.01") == "0.01");
    CHECK_THROWS_WITH_AS(call("sleep", "soon"), "sleep: invalid time interval 'soon'", std::runtime_error);
}

TEST_CASE("wc and sha256sum print as the coreutils do") {
    char path[] = "/tmp/ppool-builtins-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    std::ofstream(path) << "hello world\nsecond line here\n";
    CHECK(call("wc", path) == std::string(" 2  5 29 ") + path);
    std::ofstream(path, std::ios::trunc) << "abc";
    CHECK(call("sha256sum", path) ==
          std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  ") + path);
    std::remove(path);
    CHECK_THROWS_AS(call("wc", "/nonexistent/file"), std::runtime_error);
}

TEST_CASE("duplicate names are refused") {
    CHECK_THROWS(TaskRegistry::global().add("len", "again", [](std::string_view) { return std::string(); }));
}
