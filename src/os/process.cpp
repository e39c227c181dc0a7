#include "os/process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <system_error>
#include <unistd.h>

namespace ppool::os {

ExitStatus decode_wait_status(int status) {
    if (WIFEXITED(status)) return ExitStatus{WEXITSTATUS(status), 0};
    if (WIFSIGNALED(status)) return ExitStatus{-1, WTERMSIG(status)};
    return ExitStatus{-1, 0};
}

ExitStatus wait_for(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno == EINTR) continue;
        throw std::system_error(errno, std::generic_category(), "waitpid");
    }
    return decode_wait_status(status);
}

void signal_group(pid_t pgid, int sig) {
    if (pgid > 1) ::kill(-pgid, sig);
}

void signal_process(pid_t pid, int sig) {
    if (pid > 1) ::kill(pid, sig);
}

std::string signal_name(int sig) {
    const char* abbrev = sigabbrev_np(sig);
    if (abbrev) return std::string("SIG") + abbrev;
    return "signal " + std::to_string(sig);
}

void die_with_parent(int sig) { ::prctl(PR_SET_PDEATHSIG, sig); }

namespace {

// The group this process came from, or 0 while it leads none of its own.
volatile sig_atomic_t g_home_group = 0;

}  // namespace

void lead_own_group() {
    // The parent's group, not this process's: the parent may have moved this
    // process to a group of its own already.
    pid_t home = ::getpgid(::getppid());
    if (::setpgid(0, 0) == 0 && home > 0 && home != ::getpid()) g_home_group = home;
}

void forget_own_group() { g_home_group = 0; }

void give_own_group(pid_t pid) { ::setpgid(pid, pid); }

void exit_with_group(int status) {
    pid_t home = g_home_group;
    pid_t self = ::getpid();
    if (home > 0) {
        // Out of the group first, so that the kill does not reach this process;
        // where that group is gone (the pool was killed), the kill ends it too.
        [[maybe_unused]] int moved = ::setpgid(0, home);
        ::kill(-self, SIGKILL);
    }
    ::_exit(status);
}

ExitStatus reap_with_group(pid_t pid) {
    siginfo_t info{};
    while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) < 0) {
        if (errno == EINTR) continue;
        throw std::system_error(errno, std::generic_category(), "waitid");
    }
    signal_group(pid, SIGKILL);
    return wait_for(pid);
}

}  // namespace ppool::os

#include <algorithm>
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

namespace ppool::os {

bool has_ended(pid_t pid) {
    siginfo_t info{};
    for (;;) {
        if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0)
            return info.si_pid == pid;
        if (errno != EINTR) return true;
    }
}

int open_pidfd(pid_t pid) {
    long fd = ::syscall(SYS_pidfd_open, pid, 0);
    // Close-on-exec already: pidfd_open sets it.
    if (fd < 0) return -1;
    return static_cast<int>(fd);
}

void signal_pidfd(int pidfd, int sig) { ::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0); }

void wait_for_pidfd(int pidfd) {
    pollfd p{pidfd, POLLIN, 0};
    while (::poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
}

void close_fds_except(std::initializer_list<int> keep) {
    std::vector<int> sorted(keep);
    sorted.push_back(2);
    std::sort(sorted.begin(), sorted.end());
    unsigned int from = 3;
    for (int fd : sorted) {
        if (fd < 3) continue;
        if (static_cast<unsigned int>(fd) > from) ::close_range(from, static_cast<unsigned int>(fd) - 1, 0);
        from = static_cast<unsigned int>(fd) + 1;
    }
    ::close_range(from, ~0U, 0);
}

}  // namespace ppool::os
