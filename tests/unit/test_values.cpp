#include <doctest/doctest.h>

#include "cli/values.hpp"

#include <limits>

using namespace ppool::cli;

TEST_CASE("a whole number is decimal digits within its range") {
    CHECK(parse_whole("1", 1, 10) == 1u);
    CHECK(parse_whole("10", 1, 10) == 10u);
    CHECK(parse_whole("007", 1, 10) == 7u);
    CHECK(parse_whole("0", 0, 5) == 0u);
    CHECK(parse_whole("18446744073709551615", 1, std::numeric_limits<std::uint64_t>::max()) ==
          std::numeric_limits<std::uint64_t>::max());
}

TEST_CASE("anything else is not a whole number") {
    for (const char* text : {"", " 1", "1 ", "+1", "-1", "1.5", "1e3", "0x10", "abc", "4k", "--"})
        CHECK_MESSAGE(!parse_whole(text, 0, 100), text);
    CHECK(!parse_whole("0", 1, 10));
    CHECK(!parse_whole("11", 1, 10));
    CHECK(!parse_whole("99999999999999999999999", 1, std::numeric_limits<std::uint64_t>::max()));
}

TEST_CASE("seconds are a finite number greater than 0") {
    CHECK(parse_seconds("1") == 1.0);
    CHECK(parse_seconds("0.25") == 0.25);
    CHECK(parse_seconds("2e3") == 2000.0);
    for (const char* text : {"", "0", "-1", "-0.5", "abc", " 1", "1s", "0x10", "nan", "inf", "1e400", "+1"})
        CHECK_MESSAGE(!parse_seconds(text), text);
}

TEST_CASE("a size is bytes or a number of KiB, MiB or GiB") {
    constexpr std::uint64_t max = std::uint64_t{1} << 40;
    CHECK(parse_size("1", max) == 1u);
    CHECK(parse_size("1000", max) == 1000u);
    CHECK(parse_size("4K", max) == 4096u);
    CHECK(parse_size("4k", max) == 4096u);
    CHECK(parse_size("1M", max) == 1u << 20);
    CHECK(parse_size("3G", max) == std::uint64_t{3} << 30);
    CHECK(parse_size("1024G", max) == max);
    for (const char* text : {"", "0", "0K", "K", "-1", "1.5M", "1 M", "1KB", "1KiB", "1T", "1025G", "1x", " 1"})
        CHECK_MESSAGE(!parse_size(text, max), text);
    CHECK(!parse_size("99999999999999999999999G", max));
}

TEST_CASE("a size is shown in the largest unit that divides it") {
    CHECK(format_size(1) == "1 byte");
    CHECK(format_size(1000) == "1000 bytes");
    CHECK(format_size(1024) == "1 KiB");
    CHECK(format_size(1536 * 1024) == "1536 KiB");
    CHECK(format_size(1 << 20) == "1 MiB");
    CHECK(format_size(std::uint64_t{1} << 30) == "1 GiB");
    CHECK(format_size(std::uint64_t{5} << 30) == "5 GiB");
}

TEST_CASE("-j takes N, +N, -N and N% of the CPUs, as GNU parallel does") {
    CHECK(parse_processes("3", 8, 100) == 3u);
    CHECK(parse_processes("+1", 8, 100) == 9u);
    CHECK(parse_processes("+0", 8, 100) == 8u);
    CHECK(parse_processes("-1", 8, 100) == 7u);
    CHECK(parse_processes("-7", 8, 100) == 1u);
    CHECK(parse_processes("-8", 8, 100) == 0u);
    CHECK(parse_processes("-20", 8, 100) == 0u);
    CHECK(parse_processes("50%", 8, 100) == 4u);
    CHECK(parse_processes("10%", 8, 100) == 1u);
    CHECK(parse_processes("150%", 8, 100) == 12u);
    CHECK(parse_processes("+100", 8, 100) == std::nullopt);
    CHECK(parse_processes("2000%", 8, 100) == std::nullopt);
    for (const char* bad : {"", "0", "+", "-", "%", "0%", "+x", "-x", "x%", "+-1", "1.5%", " 4", "4 "}) {
        CAPTURE(bad);
        CHECK(parse_processes(bad, 8, 100) == std::nullopt);
    }
}
