// The pace of starts (--delay, --load, --memfree) and the median of --timeout N%.
#include <doctest/doctest.h>

#include "pool/median.hpp"
#include "pool/pacer.hpp"

using namespace ppool;
using namespace ppool::detail;

TEST_CASE("pacer: the delay runs from the last start") {
    PoolOptions o;
    o.delay_s = 2;
    Pacer pacer(o, {});
    CHECK(pacer.active());
    auto t0 = os::Clock::now();
    CHECK_FALSE(pacer.hold(t0));
    pacer.started(t0);
    auto again = pacer.hold(t0 + os::seconds(1));
    REQUIRE(again);
    CHECK(*again == t0 + os::seconds(2));
    CHECK_FALSE(pacer.hold(t0 + os::seconds(2)));
}

TEST_CASE("pacer: load and memory hold starts while over their limits; unreadable means no limit") {
    std::optional<double> load = 3.5;
    std::optional<std::uint64_t> memory = 100;
    PoolOptions o;
    o.max_load = 3;
    o.min_memfree = 50;
    Pacer pacer(o, Pacer::Readers{[&] { return load; }, [&] { return memory; }});
    auto now = os::Clock::now();
    auto again = pacer.hold(now);
    REQUIRE(again);
    CHECK(*again > now);
    load = 3;
    CHECK_FALSE(pacer.hold(now));
    memory = 49;
    CHECK(pacer.hold(now));
    memory = std::nullopt;
    load = std::nullopt;
    CHECK_FALSE(pacer.hold(now));
}

TEST_CASE("pacer: no limit, no pace") {
    Pacer pacer(PoolOptions{}, {});
    CHECK_FALSE(pacer.active());
    CHECK_FALSE(pacer.hold(os::Clock::now()));
}

TEST_CASE("running median: odd and even counts, in any order") {
    RunningMedian m;
    CHECK(m.median() == 0);
    m.add(5);
    CHECK(m.median() == 5);
    m.add(1);
    CHECK(m.median() == 3);
    m.add(100);
    CHECK(m.median() == 5);
    for (double v : {2.0, 3.0, 4.0}) m.add(v);
    // 1 2 3 4 5 100
    CHECK(m.median() == 3.5);
    CHECK(m.count() == 6);
}
