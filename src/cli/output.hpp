#pragma once

#include <string_view>
#include <system_error>

namespace ppool::cli {

/// Writes all of `data` to standard output or standard error (`fd` 1 or 2),
/// blocking as needed. A reader that went away (EPIPE) is a std::system_error,
/// which ends ppool quietly; any other failure throws ppool::Error
/// "write error: REASON", as coreutils say it.
void write_output(int fd, std::string_view data);

/// Called while `e` is handled: rethrows it if it is EPIPE, else throws
/// ppool::Error "write error: REASON".
[[noreturn]] void throw_write_error(const std::system_error& e);

/// Runs `write`, a write to standard output or standard error, and tells
/// its failure as write_output does.
template <class Write>
auto writing(Write write) -> decltype(write()) {
    try {
        return write();
    } catch (const std::system_error& e) {
        throw_write_error(e);
    }
}

}  // namespace ppool::cli
