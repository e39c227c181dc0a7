#include "os/keeper.hpp"

#include "os/process.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <string>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace ppool::os {

namespace {

/// Appends the pids in `text`, separated by blanks.
void parse_pids(const std::string& text, std::vector<pid_t>& out) {
    pid_t pid = 0;
    bool in_number = false;
    for (char c : text) {
        if (c >= '0' && c <= '9') {
            pid = pid * 10 + (c - '0');
            in_number = true;
        } else if (in_number) {
            out.push_back(pid);
            pid = 0;
            in_number = false;
        }
    }
    if (in_number) out.push_back(pid);
}

/// The whole of a small /proc file; empty if it cannot be read.
std::string read_proc(const std::string& path) {
    std::string text;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return text;
    char buffer[4096];
    for (;;) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        text.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return text;
}

/// This single-threaded process's children, as the kernel lists them.
std::vector<pid_t> children() {
    std::vector<pid_t> pids;
    parse_pids(read_proc("/proc/self/task/" + std::to_string(::getpid()) + "/children"), pids);
    return pids;
}

/// Kills (SIGKILL) every child, and the group of each one that leads one:
/// their own children come to this subreaper when they die, for the next round.
void kill_children() {
    for (pid_t child : children()) {
        if (::getpgid(child) == child) ::kill(-child, SIGKILL);
        ::kill(child, SIGKILL);
    }
}

/// Ends this process as a waitpid `status` says its child ended.
[[noreturn]] void end_as(int status) {
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        // The child's core, if any, is written; not a second one.
        struct rlimit none {};
        ::setrlimit(RLIMIT_CORE, &none);
        std::signal(sig, SIG_DFL);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, sig);
        ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
        ::kill(::getpid(), sig);
    }
    ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

/// The keeper's life: until `child` ends, SIGTERM is passed on to it and
/// whatever else ends is reaped; then what it left is killed and reaped.
[[noreturn]] void keep_child(pid_t child, const sigset_t& wanted) {
    int child_status = 0;
    for (bool ended = false; !ended;) {
        int sig = ::sigwaitinfo(&wanted, nullptr);
        if (sig == SIGTERM) ::kill(child, SIGTERM);
        int status = 0;
        for (pid_t pid; (pid = ::waitpid(-1, &status, WNOHANG)) > 0;)
            if (pid == child) {
                child_status = status;
                ended = true;
            }
    }
    for (;;) {
        kill_children();
        int status = 0;
        if (::waitpid(-1, &status, 0) < 0 && errno == ECHILD) break;
    }
    end_as(child_status);
}

}  // namespace

void split_off_keeper(int death_signal, std::initializer_list<int> keep) {
    sigset_t wanted, previous;
    sigemptyset(&wanted);
    sigaddset(&wanted, SIGTERM);
    sigaddset(&wanted, SIGCHLD);
    ::sigprocmask(SIG_BLOCK, &wanted, &previous);
    // SIGCHLD ignored would reap the children before the keeper learns how they ended.
    std::signal(SIGCHLD, SIG_DFL);
    pid_t keeper = ::getpid();
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
        ::sigprocmask(SIG_SETMASK, &previous, nullptr);
        return;
    }
    pid_t child = ::fork();
    if (child == 0) {
        ::prctl(PR_SET_PDEATHSIG, death_signal);
        // The keeper may have been killed before the line above: then no signal comes.
        if (::getppid() != keeper) ::_exit(1);
        forget_own_group();
        ::sigprocmask(SIG_SETMASK, &previous, nullptr);
        return;
    }
    if (child < 0) {
        ::prctl(PR_SET_CHILD_SUBREAPER, 0);
        ::sigprocmask(SIG_SETMASK, &previous, nullptr);
        return;
    }
    close_fds_except(keep);
    keep_child(child, wanted);
}

}  // namespace ppool::os
