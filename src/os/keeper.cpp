#include "os/keeper.hpp"

#include "os/process.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <dirent.h>
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

/// This single-threaded process's children, as the kernel lists them; where
/// it does not (no CONFIG_PROC_CHILDREN), found by their parent in /proc.
std::vector<pid_t> children() {
    std::vector<pid_t> pids;
    pid_t self = ::getpid();
    std::string list = "/proc/self/task/" + std::to_string(self) + "/children";
    if (::access(list.c_str(), R_OK) == 0) {
        parse_pids(read_proc(list), pids);
        return pids;
    }
    DIR* proc = ::opendir("/proc");
    if (!proc) return pids;
    while (auto* entry = ::readdir(proc)) {
        if (entry->d_name[0] < '1' || entry->d_name[0] > '9') continue;
        // "pid (comm) state ppid ...": the command may hold anything, but not after its last ')'.
        auto stat = read_proc(std::string("/proc/") + entry->d_name + "/stat");
        auto close = stat.rfind(')');
        if (close == std::string::npos || close + 4 >= stat.size()) continue;
        if (std::atoi(stat.c_str() + close + 4) == self) pids.push_back(std::atoi(entry->d_name));
    }
    ::closedir(proc);
    return pids;
}

/// Kills (SIGKILL) every child, and the group of each one that leads one:
/// their own children come to this subreaper when they die, for the next
/// round. False when it found none.
bool kill_children() {
    auto pids = children();
    for (pid_t child : pids) {
        if (::getpgid(child) == child) ::kill(-child, SIGKILL);
        ::kill(child, SIGKILL);
    }
    return !pids.empty();
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
        bool seen = kill_children();
        // Children it cannot see (no /proc) are not waited for: nothing would end them.
        int status = 0;
        pid_t pid = ::waitpid(-1, &status, seen ? 0 : WNOHANG);
        if ((pid < 0 && errno == ECHILD) || pid == 0) break;
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
