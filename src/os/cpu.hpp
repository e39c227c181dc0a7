#pragma once

#include <string_view>

namespace ppool::os {

/// The number of CPUs this process may use: its affinity mask, lowered by a
/// cgroup v2 CPU quota when one is set. At least 1.
int usable_cpus();

/// Parses a cgroup v2 `cpu.max` line ("max 100000" or "150000 100000") into
/// a whole number of CPUs, rounded up; 0 when there is no quota.
int cpus_from_cgroup_max(std::string_view line);

}  // namespace ppool::os
