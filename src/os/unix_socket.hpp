#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

#include "os/fd.hpp"

namespace ppool::os {

/// What is at a Unix socket's path.
enum class SocketProbe {
    absent,  ///< nothing, or nothing listens (refused): a stale socket to replace
    live,    ///< a server accepts connections there
};

/// Whether a server listens at `path` (one connection attempt, closed at once).
SocketProbe probe_unix_socket(const std::string& path);

/// A close-on-exec stream socket bound to `path` and listening. Throws
/// std::system_error naming the call (EADDRINUSE if the path is taken,
/// ENAMETOOLONG if it does not fit a socket address).
Fd listen_unix(const std::string& path);

/// Accepts one connection, close-on-exec; no value if none is pending.
std::optional<Fd> accept_unix(int listener);

/// A close-on-exec stream socket connected to `path`; throws
/// std::system_error (ENOENT, ECONNREFUSED...) naming the call.
Fd connect_unix(const std::string& path);

/// The user id of the process at the other end of a Unix socket (SO_PEERCRED).
uid_t peer_uid(int fd);
/// The process at the other end of a connected Unix socket, as it was when it connected.
pid_t peer_pid(int fd);

/// Sends `fd` over the connected Unix socket `socket` (SCM_RIGHTS), with one
/// byte of data; blocks until sent. Throws std::system_error.
void send_fd(int socket, int fd);
/// Receives a descriptor sent by send_fd (close-on-exec); none when the
/// other end closed first. Throws std::system_error.
std::optional<Fd> receive_fd(int socket);

/// Sends all of `data` without SIGPIPE, waiting at most `timeout_ms` for
/// the reader at a time; false if the reader is gone or reads nothing for that long.
bool send_all(int fd, std::string_view data, int timeout_ms);

/// Makes `dir` (one level) with mode 0700 unless it exists; then checks that
/// it is a directory, not a link, owned by this user and of mode 0700.
/// Empty when it may hold a private socket; else why not.
std::string make_private_socket_dir(const std::string& dir);

}  // namespace ppool::os
