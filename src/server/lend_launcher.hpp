#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <string>

#include "os/fd.hpp"
#include "os/private_dir.hpp"
#include "server/client.hpp"
#include "worker/launcher.hpp"

namespace ppool::server {

/// Workers borrowed from a `ppool serve` (PoolOptions::server): the server
/// lends its warm workers to this pool, which configures them as its own.
///
/// The pool listens on a socket in a private directory and asks the server
/// for its workers in one request, so that they queue there together behind
/// what was asked before. Each worker, once free at the server, connects
/// here and is handed its channel to this pool. A worker is waited for only
/// while the pool holds none: two pools that each hold some of a server's
/// workers never wait on each other. Closing the channel gives a worker
/// back; killing it (a timeout) costs the server that worker, which starts
/// a fresh one.
class LendLauncher final : public worker::Launcher {
public:
    /// Connects to the server at `socket`; UsageError if none answers there.
    explicit LendLauncher(const std::string& socket);
    ~LendLauncher() override;

    /// How many workers the server has.
    std::size_t server_workers() const { return m_server_workers; }
    /// How many to ask for at the first launch.
    void want(std::size_t workers) { m_wanted = workers; }

    /// A lent worker: one that has come, else (holding none) the next to come.
    /// ServerLost if the server goes away first.
    worker::LaunchedWorker launch() override;
    const std::string& name() const override { return m_name; }
    bool runs_a_command() const override { return true; }
    bool can_launch() const override { return !m_arrived.empty() || *m_live == 0; }
    int ready_fd() const override { return m_listener.get(); }
    void on_ready() override;
    std::string lost() const override;

private:
    /// Asks the server for `count` more workers.
    void ask(std::size_t count);
    /// Accepts what has connected, without waiting.
    void accept_arrived();

    Connection m_server;
    std::size_t m_server_workers = 0;
    os::PrivateDir m_dir;
    std::string m_address;
    std::string m_directory;
    std::string m_name;
    os::Fd m_listener;
    std::deque<os::Fd> m_arrived;
    std::size_t m_wanted = 1;
    std::size_t m_asked = 0;
    std::size_t m_accepted = 0;
    std::shared_ptr<std::size_t> m_live = std::make_shared<std::size_t>(0);
};

}  // namespace ppool::server
