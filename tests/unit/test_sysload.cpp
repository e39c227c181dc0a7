// Reading the machine's load and available memory.
#include <doctest/doctest.h>

#include "os/sysload.hpp"

#include <cstdlib>
#include <fstream>
#include <unistd.h>

using namespace ppool::os;

TEST_CASE("loadavg: the first field") {
    CHECK(parse_loadavg("0.52 0.58 0.59 1/467 12345\n") == 0.52);
    CHECK(parse_loadavg("12 1 1 1/1 1") == 12.0);
    CHECK_FALSE(parse_loadavg(""));
    CHECK_FALSE(parse_loadavg("x 1 1"));
}

TEST_CASE("meminfo: MemAvailable in bytes") {
    CHECK(parse_meminfo("MemTotal:       16000000 kB\nMemFree:  100 kB\nMemAvailable:    2048 kB\n") == 2048u * 1024);
    CHECK_FALSE(parse_meminfo("MemTotal: 1 kB\n"));
    CHECK_FALSE(parse_meminfo("XMemAvailable: 1 kB\n"));
}

TEST_CASE("the machine's own values, and a file named for tests instead") {
    // /proc is there on Linux.
    CHECK(load_average().has_value());
    CHECK(memory_available().value_or(0) > 0);
    char name[] = "/tmp/ppool-loadavg-XXXXXX";
    int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    ::close(fd);
    std::ofstream(name) << "7.25 1 1 1/1 1\n";
    ::setenv("PPOOL_TEST_LOADAVG", name, 1);
    CHECK(load_average() == 7.25);
    ::unsetenv("PPOOL_TEST_LOADAVG");
    ::unlink(name);
}
