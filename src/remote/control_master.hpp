#pragma once

#include <chrono>
#include <string>
#include <sys/types.h>
#include <vector>

#include "os/private_dir.hpp"
#include "ppool/errors.hpp"
#include "remote/sshlogin.hpp"

namespace ppool::remote {

/// A host could not be reached: the message names it and quotes ssh's last words.
class ConnectError : public Error {
public:
    using Error::Error;
};

/// One ssh connection to a host that every slot's session reuses (ssh's
/// ControlMaster): `ssh -M -N -o ControlPersist=no -S SOCKET ...` runs as a
/// child of this process, its socket in a private (0700) directory, and
/// ends with this object, or with the thread that started it if this process
/// is killed (parent-death signal): nothing of it outlives ppool.
class ControlMaster {
public:
    /// Starts the master for `login` with `ssh_program` (ssh and its options;
    /// the login's own ssh command wins) and waits until `ssh -O check`
    /// answers through its socket, at most `timeout`. Throws ConnectError
    /// with ssh's last words when the master ends first or the time runs out;
    /// Interrupted when a caught signal arrives meanwhile.
    ControlMaster(SshLogin login, std::vector<std::string> ssh_program, std::chrono::milliseconds timeout);
    ~ControlMaster() { stop(); }
    ControlMaster(const ControlMaster&) = delete;
    ControlMaster& operator=(const ControlMaster&) = delete;

    /// The argv of one session that runs `remote_argv` over this connection
    /// (see ssh_command); it opens a connection of its own if the master is gone.
    std::vector<std::string> command(const std::vector<std::string>& remote_argv) const;

    /// The master's control socket.
    const std::string& socket() const { return m_socket; }
    /// The master's pid, or -1 once stopped.
    pid_t pid() const { return m_pid; }
    /// Whether the master still runs, with `ssh -O check` through its socket.
    bool check() const;
    /// Ends the master and the sessions over it: `ssh -O exit`, then SIGTERM
    /// and SIGKILL to its process group if it lingers; reaps it and removes
    /// its directory. Idempotent.
    void stop() noexcept;

private:
    /// ssh with the login's options and the socket, then `extra`, then the host.
    std::vector<std::string> control_argv(const std::vector<std::string>& extra) const;
    void wait_until_ready(std::chrono::milliseconds timeout);
    /// ssh's last line on stderr, to quote.
    std::string last_words() const;

    SshLogin m_login;
    std::vector<std::string> m_ssh;
    os::PrivateDir m_dir;
    std::string m_socket;
    std::string m_log;
    pid_t m_pid = -1;
};

}  // namespace ppool::remote
