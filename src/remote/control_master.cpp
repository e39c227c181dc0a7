#include "remote/control_master.hpp"

#include "os/event_loop.hpp"
#include "os/file.hpp"
#include "os/signals.hpp"
#include "os/tied_spawn.hpp"
#include "remote/ssh_command.hpp"

#include <algorithm>
#include <csignal>
#include <cstring>
#include <fmt/format.h>
#include <system_error>

namespace ppool::remote {

namespace {

using namespace std::chrono_literals;

/// Runs a short ssh control command with no input or output; whether it
/// succeeded by `deadline` (it is killed and reaped if not).
bool run_quietly(const std::vector<std::string>& argv, os::TimePoint deadline) {
    auto null = os::open_dev_null();
    auto spawned =
        os::spawn(os::SpawnRequest{argv, os::environment(), null.get(), null.get(), null.get(), true, nullptr});
    if (spawned.error != 0) return false;
    if (auto status = os::reap_by(spawned.pid, deadline)) return status->ok();
    os::signal_group(spawned.pid, SIGKILL);
    os::wait_for(spawned.pid);
    return false;
}

}  // namespace

ControlMaster::ControlMaster(SshLogin login, std::vector<std::string> ssh_program, std::chrono::milliseconds timeout)
    : m_login(std::move(login)), m_ssh(std::move(ssh_program)) {
    if (m_login.is_local) throw std::logic_error("ControlMaster: the login ':' runs no ssh");
    // Only this user may reach the socket: whoever can, runs commands on the host.
    m_dir = os::PrivateDir::create("ppool-ssh");
    m_socket = m_dir.path() + "/master";
    m_log = m_dir.path() + "/master.log";
    int error = 0;
    os::Fd log = os::open_append(m_log, error);
    if (!log) throw std::system_error(error, std::generic_category(), "cannot create " + m_log);
    auto null = os::open_dev_null();
    auto argv = control_argv({"-M", "-N", "-o", "ControlPersist=no"});
    os::SpawnRequest request{argv, os::environment(), null.get(), null.get(), log.get(), true, nullptr};
    auto spawned = os::spawn_tied(request, SIGTERM);
    if (spawned.error != 0)
        throw ConnectError(fmt::format("cannot connect to {}: cannot run {}: {}", m_login.text(), argv.front(),
                                       std::strerror(spawned.error)));
    m_pid = spawned.pid;
    try {
        wait_until_ready(timeout);
    } catch (...) {
        stop();
        throw;
    }
}

std::vector<std::string> ControlMaster::control_argv(const std::vector<std::string>& extra) const {
    std::vector<std::string> options{"-S", m_socket};
    options.insert(options.end(), extra.begin(), extra.end());
    return ssh_command(m_login, m_ssh, {}, options);
}

std::vector<std::string> ControlMaster::command(const std::vector<std::string>& remote_argv) const {
    return ssh_command(m_login, m_ssh, remote_argv, {"-S", m_socket, "-o", "ControlMaster=no"});
}

void ControlMaster::wait_until_ready(std::chrono::milliseconds timeout) {
    auto deadline = os::Clock::now() + timeout;
    for (;;) {
        // The master makes its socket once logged in; the check confirms it answers.
        if (os::file_type(m_socket) == os::FileType::socket && check()) return;
        // Until the next look: 20 ms, unless the master ends first.
        auto next = std::min(deadline, os::Clock::now() + 20ms);
        if (os::wait_for_end(m_pid, next)) {
            auto status = os::wait_for(m_pid);
            m_pid = -1;
            auto words = last_words();
            throw ConnectError(fmt::format("cannot connect to {}: ssh ended ({}){}", m_login.text(),
                                           status.signal ? os::signal_name(status.signal)
                                                         : fmt::format("exit status {}", status.code),
                                           words.empty() ? "" : ": " + words));
        }
        if (int signo = os::peek_caught_signal()) throw Interrupted(signo);
        if (os::Clock::now() >= deadline) {
            auto words = last_words();
            throw ConnectError(fmt::format("cannot connect to {}: no connection after {} s{}", m_login.text(),
                                           timeout.count() / 1000.0, words.empty() ? "" : ": " + words));
        }
    }
}

bool ControlMaster::check() const {
    if (m_pid < 0) return false;
    return run_quietly(control_argv({"-O", "check"}), os::Clock::now() + 10s);
}

std::string ControlMaster::last_words() const {
    try {
        auto file = os::read_regular_file(m_log);
        std::string_view text = file.text;
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
        auto newline = text.rfind('\n');
        return std::string(newline == std::string_view::npos ? text : text.substr(newline + 1));
    } catch (const std::system_error&) {
        return {};
    }
}

void ControlMaster::stop() noexcept {
    if (m_pid > 0) {
        try {
            // Politely first: the master closes its sessions and removes its socket.
            run_quietly(control_argv({"-O", "exit"}), os::Clock::now() + 5s);
            if (!os::reap_by(m_pid, os::Clock::now() + 5s)) {
                os::signal_group(m_pid, SIGTERM);
                if (!os::reap_by(m_pid, os::Clock::now() + 5s)) os::reap_with_group(m_pid);
            }
        } catch (...) {
            os::signal_group(m_pid, SIGKILL);
        }
        m_pid = -1;
    }
    m_dir.remove();
}

}  // namespace ppool::remote
