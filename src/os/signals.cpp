#include "os/signals.hpp"

#include <cerrno>
#include <system_error>
#include <unistd.h>

namespace ppool::os {

namespace {

volatile sig_atomic_t g_caught = 0;
sigset_t g_wait_mask;
sigset_t g_child_mask;
bool g_active = false;

extern "C" void record_signal(int signo) {
    if (g_caught == 0) g_caught = signo;
}

}  // namespace

SignalCatcher::SignalCatcher(std::initializer_list<int> signals) {
    sigemptyset(&m_caught);
    for (int s : signals) sigaddset(&m_caught, s);
    if (sigprocmask(SIG_BLOCK, &m_caught, &m_original) != 0)
        throw std::system_error(errno, std::generic_category(), "sigprocmask");
    struct sigaction sa {};
    sa.sa_handler = record_signal;
    sigemptyset(&sa.sa_mask);
    for (int s : signals) sigaction(s, &sa, &m_old_actions[s]);
    g_wait_mask = m_original;
    for (int s : signals) sigdelset(&g_wait_mask, s);
    g_child_mask = m_original;
    g_caught = 0;
    g_active = true;
}

SignalCatcher::~SignalCatcher() {
    g_active = false;
    for (int s = 1; s < NSIG; ++s)
        if (sigismember(&m_caught, s) == 1) sigaction(s, &m_old_actions[s], nullptr);
    sigprocmask(SIG_SETMASK, &m_original, nullptr);
}

const sigset_t* wait_mask() { return g_active ? &g_wait_mask : nullptr; }

int take_caught_signal() {
    int s = g_caught;
    g_caught = 0;
    return s;
}

int peek_caught_signal() { return g_caught; }

sigset_t child_mask() {
    if (g_active) return g_child_mask;
    sigset_t current;
    sigprocmask(SIG_SETMASK, nullptr, &current);
    return current;
}

void ignore_write_signals() {
    struct sigaction sa {};
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, nullptr);
    sigaction(SIGXFSZ, &sa, nullptr);
}

}  // namespace ppool::os

namespace ppool::os {

void forget_catcher_in_child() {
    if (g_active) sigprocmask(SIG_SETMASK, &g_child_mask, nullptr);
    g_active = false;
    g_caught = 0;
}

}  // namespace ppool::os

namespace ppool::os {

SignalHold::SignalHold(int signo) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    ::pthread_sigmask(SIG_BLOCK, &set, &m_previous);
}

SignalHold::~SignalHold() { ::pthread_sigmask(SIG_SETMASK, &m_previous, nullptr); }

pid_t fork_holding(int signo) {
    sigset_t set, previous;
    sigemptyset(&set);
    sigaddset(&set, signo);
    ::pthread_sigmask(SIG_BLOCK, &set, &previous);
    pid_t pid = ::fork();
    int error = errno;
    if (pid != 0) ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    errno = error;
    return pid;
}

}  // namespace ppool::os
