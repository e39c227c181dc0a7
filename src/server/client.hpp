#pragma once

#include <optional>
#include <string>

#include "os/fd.hpp"
#include "ppool/errors.hpp"
#include "server/client_protocol.hpp"

namespace ppool::server {

/// The server went away (killed, terminated) while a request waited on it.
class ServerLost : public Error {
public:
    using Error::Error;
};

/// The default socket of this user's server: $XDG_RUNTIME_DIR/ppool/default.sock,
/// else default.sock in /tmp/ppool-UID. Its directory is made (0700) if
/// need be; UsageError if it is not this user's alone.
std::string default_socket_path();

/// The file a server leaves beside its socket when it ends as asked (close
/// with every job done and fetched, or terminate): a later `join` finds its
/// work done there, where no server at all would be an error.
std::string ended_marker(const std::string& socket);

/// The socket a client command talks to: `given` (--server), else
/// PPOOL_SERVER, else the default.
std::string client_socket_path(const std::string& given);

/// A client's connection to a server, greeted.
class Connection {
public:
    /// Connects and says hello; UsageError if no server answers at `path`,
    /// or it refuses this client (another user's, another version).
    explicit Connection(std::string path);
    /// Sends `request` and waits up to `timeout` seconds (none: no limit)
    /// for the reply: no value when the time is up. ServerLost if the server
    /// goes away first; UsageError for an error reply.
    std::optional<Reply> call(const Request& request, std::optional<double> timeout = {});
    /// The connection, readable only when the server goes away (it speaks only when asked).
    int fd() const { return m_fd.get(); }
    const std::string& path() const { return m_path; }

private:
    std::optional<Reply> receive(std::optional<double> timeout);
    std::string m_path;
    os::Fd m_fd;
    FrameSplitter m_frames{k_max_reply_bytes};
};

}  // namespace ppool::server
