// Parsing --halt, --delay, --load, --memfree and --timeout N% as GNU parallel spells them.
#include <doctest/doctest.h>

#include "cli/options.hpp"
#include "cli/pacing.hpp"
#include "ppool/errors.hpp"

using namespace ppool;
using namespace ppool::cli;

TEST_CASE("--halt: when,why=N and N%") {
    auto rule = parse_halt("soon,fail=3");
    REQUIRE(rule);
    CHECK(rule->when == HaltRule::When::soon);
    CHECK(rule->on == HaltRule::On::fail);
    CHECK(rule->count == 3);
    CHECK_FALSE(rule->percent);
    rule = parse_halt("now,success=30%");
    REQUIRE(rule);
    CHECK(rule->when == HaltRule::When::now);
    CHECK(rule->on == HaltRule::On::success);
    CHECK(rule->count == 30);
    CHECK(rule->percent);
    rule = parse_halt("now,done=1");
    REQUIRE(rule);
    CHECK(rule->on == HaltRule::On::done);
}

TEST_CASE("--halt: GNU parallel's older numbers") {
    CHECK(parse_halt("0")->when == HaltRule::When::never);
    CHECK(parse_halt("never")->when == HaltRule::When::never);
    CHECK(parse_halt("1")->when == HaltRule::When::soon);
    CHECK(parse_halt("2")->when == HaltRule::When::now);
    CHECK(parse_halt("-1")->on == HaltRule::On::success);
    CHECK(parse_halt("-2")->when == HaltRule::When::now);
    auto pct = parse_halt("20%");
    REQUIRE(pct);
    CHECK(pct->when == HaltRule::When::soon);
    CHECK(pct->percent);
    CHECK(pct->count == 20);
}

TEST_CASE("--halt: what is not a rule") {
    for (const char* bad : {"", "now", "now,fial=1", "later,fail=1", "now,fail=", "now,fail=0", "now,fail=-1",
                            "now,fail=1x", "now,fail=101%", "100%", "3", "now,fail=1,2", "soon fail=1"})
        CHECK_MESSAGE(!parse_halt(bad), bad);
}

TEST_CASE("durations: seconds, fractions and GNU parallel's s, m, h, d") {
    CHECK(parse_duration("0") == 0.0);
    CHECK(parse_duration("1.5") == 1.5);
    CHECK(parse_duration("2s") == 2.0);
    CHECK(parse_duration("2m") == 120.0);
    CHECK(parse_duration("1h30m") == 5400.0);
    CHECK(parse_duration("1d3.5h16.6m4s") == doctest::Approx(100000));
    for (const char* bad : {"", "-1", "abc", "1x", "s", "1s2", ".5", "1e3s", "inf", "nan"})
        CHECK_MESSAGE(!parse_duration(bad), bad);
}

TEST_CASE("--load: a number, 0 as 0.01, or N% of the CPUs") {
    CHECK(parse_load("2.5", 8) == 2.5);
    CHECK(parse_load("0", 8) == 0.01);
    CHECK(parse_load("50%", 8) == 4.0);
    CHECK(parse_load("100%", 3) == 3.0);
    for (const char* bad : {"", "abc", "-1", "%", "1x"}) CHECK_MESSAGE(!parse_load(bad, 8), bad);
}

TEST_CASE("check_pacing and check_timeout: values into the options, bad ones a usage error") {
    Options o;
    PacingOptions raw;
    raw.halt = "now,fail=2";
    raw.delay = "1m";
    raw.load = "3";
    raw.memfree = "1G";
    check_pacing(o, raw);
    CHECK(o.halt.count == 2);
    CHECK(o.delay == 60.0);
    CHECK(o.load == 3.0);
    CHECK(o.memfree == std::uint64_t{1} << 30);
    check_timeout(o, "250%");
    CHECK(o.timeout_percent == 250.0);
    check_timeout(o, "1m");
    CHECK(o.timeout == 60.0);
    raw.memfree = "12Q";
    CHECK_THROWS_AS(check_pacing(o, raw), UsageError);
    CHECK_THROWS_AS(check_timeout(o, "0%"), UsageError);
    CHECK_THROWS_AS(check_timeout(o, "x%"), UsageError);
    CHECK_THROWS_AS(check_timeout(o, "0"), UsageError);
}
