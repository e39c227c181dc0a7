#include "os/cpu.hpp"

#include "os/limits.hpp"

#include <charconv>
#include <fstream>
#include <sched.h>
#include <string>

namespace ppool::os {

int cpus_from_cgroup_max(std::string_view line) {
    auto space = line.find(' ');
    if (space == std::string_view::npos) return 0;
    auto quota_text = line.substr(0, space);
    auto period_text = line.substr(space + 1);
    while (!period_text.empty() && (period_text.back() == '\n' || period_text.back() == ' '))
        period_text.remove_suffix(1);
    long long quota = 0, period = 0;
    auto q = std::from_chars(quota_text.data(), quota_text.data() + quota_text.size(), quota);
    auto p = std::from_chars(period_text.data(), period_text.data() + period_text.size(), period);
    if (q.ec != std::errc{} || p.ec != std::errc{} || quota <= 0 || period <= 0) return 0;
    return static_cast<int>((quota + period - 1) / period);
}

namespace {

/// The cgroup v2 quota of this process's own cgroup, or 0.
int cgroup_cpus() {
    std::string text = cgroup_value("cpu.max");
    return text.empty() ? 0 : cpus_from_cgroup_max(text);
}

}  // namespace

int usable_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    int count = 0;
    if (sched_getaffinity(0, sizeof set, &set) == 0) count = CPU_COUNT(&set);
    if (count <= 0) count = 1;
    int quota = cgroup_cpus();
    if (quota > 0 && quota < count) count = quota;
    return count;
}

}  // namespace ppool::os
