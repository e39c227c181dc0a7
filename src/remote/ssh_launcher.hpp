#pragma once

#include <memory>
#include <string>
#include <vector>

#include "remote/control_master.hpp"
#include "remote/sshlogin.hpp"
#include "worker/launcher.hpp"

namespace ppool::remote {

/// Starts `ppool worker --stdio` on a host, each worker a session over the
/// host's one ssh connection (its ControlMaster, shared by its launchers).
class SshLauncher final : public worker::Launcher {
public:
    /// `remote_ppool`: the ppool to run there (a name looked up in the remote PATH, or a path).
    SshLauncher(std::shared_ptr<ControlMaster> master, const SshLogin& login, const std::string& remote_ppool)
        : m_master(std::move(master)),
          m_argv(m_master->command({remote_ppool, "worker", "--stdio"})),
          m_name("ssh to " + login.text()),
          m_host(login.host_text()) {}

    worker::LaunchedWorker launch() override { return worker::launch_command(m_argv); }
    const std::string& name() const override { return m_name; }
    /// The login as written, without "N/": "user@host:2222".
    const std::string& host() const override { return m_host; }
    bool runs_a_command() const override { return true; }
    std::size_t extra_descriptors() const override { return 1; }

private:
    std::shared_ptr<ControlMaster> m_master;
    std::vector<std::string> m_argv;
    std::string m_name;
    std::string m_host;
};

}  // namespace ppool::remote
