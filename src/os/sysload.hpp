#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ppool::os {

/// This machine's 1-minute load average, the first field of /proc/loadavg
/// (or of the file PPOOL_TEST_LOADAVG names, for tests); none if unreadable.
std::optional<double> load_average();

/// This machine's available memory in bytes, MemAvailable in /proc/meminfo
/// (or in the file PPOOL_TEST_MEMINFO names, for tests); none if unreadable.
std::optional<std::uint64_t> memory_available();

/// The first field of a /proc/loadavg text as a number; none if it is not one.
std::optional<double> parse_loadavg(std::string_view text);

/// MemAvailable of a /proc/meminfo text in bytes; none if it is not there.
std::optional<std::uint64_t> parse_meminfo(std::string_view text);

}  // namespace ppool::os
