#pragma once

#include <cstdint>
#include <optional>

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

}  // namespace ppool::os
