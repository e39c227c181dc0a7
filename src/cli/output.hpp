#pragma once

#include <string_view>

namespace ppool::cli {

/// Writes all of `data` to standard output or standard error (`fd` 1 or 2),
/// blocking as needed. A reader that went away (EPIPE) is a std::system_error,
/// which ends ppool quietly; any other failure throws ppool::Error
/// "write error: REASON", as coreutils say it.
void write_output(int fd, std::string_view data);

}  // namespace ppool::cli
