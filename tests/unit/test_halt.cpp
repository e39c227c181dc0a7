// The halt rule's counting (GNU parallel's --halt).
#include <doctest/doctest.h>

#include "pool/halt.hpp"

using namespace ppool;
using namespace ppool::detail;

TEST_CASE("halt: a count of failures, successes or either") {
    HaltCounter fail(HaltRule{HaltRule::When::soon, HaltRule::On::fail, 2, false});
    HaltCounter success(HaltRule{HaltRule::When::now, HaltRule::On::success, 2, false});
    HaltCounter done(HaltRule{HaltRule::When::now, HaltRule::On::done, 3, false});
    for (bool ok : {true, false, true}) {
        fail.add(ok);
        success.add(ok);
        done.add(ok);
    }
    CHECK_FALSE(fail.reached(std::nullopt));
    CHECK(success.reached(std::nullopt));
    CHECK(done.reached(std::nullopt));
    fail.add(false);
    CHECK(fail.reached(std::nullopt));
}

TEST_CASE("halt: a percentage of all the items, as GNU parallel rounds it") {
    HaltCounter rule(HaltRule{HaltRule::When::soon, HaltRule::On::fail, 25, true});
    rule.add(false);
    rule.add(false);
    CHECK_FALSE(rule.reached(10));
    rule.add(false);
    // Not before the total is known.
    CHECK_FALSE(rule.reached(std::nullopt));
    CHECK(rule.reached(10));
    CHECK(rule.needs_total());
    // 1% of 10 items is one task; none counted is never enough.
    HaltCounter one(HaltRule{HaltRule::When::now, HaltRule::On::fail, 1, true});
    CHECK_FALSE(one.reached(10));
    one.add(true);
    CHECK_FALSE(one.reached(10));
    one.add(false);
    CHECK(one.reached(10));
}

TEST_CASE("halt: never, and fail-fast as now,fail=1") {
    HaltCounter never;
    never.add(false);
    CHECK_FALSE(never.reached(1));
    CHECK_FALSE(never.needs_total());
    PoolOptions o;
    o.fail_fast = true;
    auto rule = HaltCounter::rule_of(o);
    CHECK(rule.when == HaltRule::When::now);
    CHECK(rule.on == HaltRule::On::fail);
    CHECK(rule.count == 1);
    // --halt says more than --fail-fast.
    o.halt = HaltRule{HaltRule::When::soon, HaltRule::On::done, 5, false};
    CHECK(HaltCounter::rule_of(o).when == HaltRule::When::soon);
}
