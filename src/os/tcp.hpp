#pragma once

#include <cstdint>
#include <string>

#include "os/fd.hpp"

namespace ppool::os {

/// A TCP socket listening on every address of this host (IPv6 and IPv4
/// where it can), on a port the kernel picked; close-on-exec, non-blocking.
struct Listener {
    Fd fd;
    std::uint16_t port = 0;
};
/// Throws std::system_error.
Listener listen_tcp();

/// A connection to `address` (numeric IPv4 or IPv6) and `port` within
/// `timeout_ms`, close-on-exec, blocking, with Nagle's algorithm off; an empty
/// Fd and `error` saying why when there is none.
Fd connect_tcp(const std::string& address, std::uint16_t port, int timeout_ms, std::string& error);

/// Turns Nagle's algorithm off on a TCP socket: small frames go at once.
void set_nodelay(int fd);

/// Reads exactly `size` bytes within `timeout_ms`; false on end of file,
/// an error, or the time running out.
bool read_within(int fd, char* out, std::size_t size, int timeout_ms);

}  // namespace ppool::os
