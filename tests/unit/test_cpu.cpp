#include <doctest/doctest.h>

#include "os/cpu.hpp"

using namespace ppool::os;

TEST_CASE("cgroup cpu.max quotas round up") {
    CHECK(cpus_from_cgroup_max("max 100000") == 0);
    CHECK(cpus_from_cgroup_max("150000 100000\n") == 2);
    CHECK(cpus_from_cgroup_max("100000 100000") == 1);
    CHECK(cpus_from_cgroup_max("50000 100000") == 1);
    CHECK(cpus_from_cgroup_max("garbage") == 0);
    CHECK(usable_cpus() >= 1);
}
