#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace ppool::os {

/// The smaller of the soft RLIMIT_AS and RLIMIT_DATA in bytes (`ulimit -v`,
/// `ulimit -d`), or nullopt when neither is set.
std::optional<std::uint64_t> memory_limit();

/// The soft RLIMIT_NOFILE (`ulimit -n`).
std::uint64_t open_file_limit();

/// Descriptors this process has open now.
std::uint64_t open_file_count();

/// The soft RLIMIT_NPROC (`ulimit -u`), or nullopt when unlimited or not
/// enforced (the kernel does not hold root to it).
std::optional<std::uint64_t> process_limit();

/// Processes and threads that count against RLIMIT_NPROC now: those of this
/// process's real user.
std::uint64_t user_process_count();

/// The first line of `name` in this process's cgroup v2 directory (falling
/// back to the root's), or empty: "max" or a number for limits such as
/// `cpu.max` and `pids.max`.
std::string cgroup_value(const std::string& name);

/// Processes this process's cgroup may still start (`pids.max` less
/// `pids.current`), or nullopt when it has no such limit.
std::optional<std::uint64_t> cgroup_processes_left();

}  // namespace ppool::os
