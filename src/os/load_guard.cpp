#include "os/load_guard.hpp"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <iostream>
#include <system_error>
#include <unistd.h>

namespace ppool::os {

namespace {

void flush_stdout() {
    std::cout.flush();
    std::fflush(stdout);
}

std::atomic<const ExitTrap*> g_trap{nullptr};

void on_exit_called(int status, void*) {
    if (const ExitTrap* trap = g_trap.load()) trap->spring("exit(" + std::to_string(status) + ")");
}

void on_quick_exit_called() {
    if (const ExitTrap* trap = g_trap.load()) trap->spring("quick_exit()");
}

/// Exit handlers cannot be removed, so they are installed once and do
/// nothing while no trap is armed.
void install_exit_handlers() {
    static const bool installed = [] {
        if (::on_exit(on_exit_called, nullptr) != 0 || std::at_quick_exit(on_quick_exit_called) != 0)
            throw std::system_error(ENOMEM, std::generic_category(), "on_exit");
        return true;
    }();
    (void)installed;
}

}  // namespace

StdoutToStderr::StdoutToStderr() {
    flush_stdout();
    int saved = ::fcntl(1, F_DUPFD_CLOEXEC, 3);
    if (saved < 0 && errno != EBADF) throw std::system_error(errno, std::generic_category(), "fcntl(F_DUPFD_CLOEXEC)");
    m_stdout.reset(saved);
    if (::dup2(2, 1) >= 0) return;
    // No stderr either: what would have gone there is dropped.
    auto null = open_dev_null();
    if (::dup2(null.get(), 1) < 0) throw std::system_error(errno, std::generic_category(), "dup2");
}

StdoutToStderr::~StdoutToStderr() {
    flush_stdout();
    if (m_stdout) ::dup2(m_stdout.get(), 1);
    else ::close(1);
}

ExitTrap::ExitTrap(std::string message_start, std::string message_end, int status)
    : m_start(std::move(message_start)), m_end(std::move(message_end)), m_status(status) {
    install_exit_handlers();
    m_outer = g_trap.exchange(this);
}

ExitTrap::~ExitTrap() { g_trap.store(m_outer); }

void ExitTrap::spring(const std::string& call) const {
    // What the code printed before it called exit goes out first.
    flush_stdout();
    std::fflush(stderr);
    std::string line = m_start + call + m_end + "\n";
    [[maybe_unused]] auto n = ::write(2, line.data(), line.size());
    ::_exit(m_status);
}

}  // namespace ppool::os
