#include "os/tied_spawn.hpp"

#include "os/fd.hpp"
#include "os/signals.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <string>
#include <sys/prctl.h>
#include <unistd.h>
#include <vector>

namespace ppool::os {

namespace {

/// In the child after fork: only async-signal-safe calls. Reports the errno
/// of a failure on `report` (close-on-exec, so an exec closes it unwritten).
[[noreturn]] void exec_child(const SpawnRequest& request, const char* program, char* const* argv, char* const* envp,
                             const sigset_t& mask, int death_signal, pid_t parent, int report) {
    if (request.new_process_group) ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, death_signal);
    // The parent may have died before the line above: then no signal comes.
    if (::getppid() != parent) ::_exit(127);
    struct sigaction defaults {};
    defaults.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig)
        if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &defaults, nullptr);
    int targets[3] = {request.stdin_fd, request.stdout_fd, request.stderr_fd};
    for (int target = 0; target < 3; ++target)
        if (targets[target] >= 0 && ::dup2(targets[target], target) < 0) break;
    ::sigprocmask(SIG_SETMASK, &mask, nullptr);
    ::execve(program, argv, envp);
    int error = errno;
    [[maybe_unused]] ssize_t n = ::write(report, &error, sizeof error);
    ::_exit(127);
}

}  // namespace

SpawnResult spawn_tied(const SpawnRequest& request, int death_signal) {
    // Everything the child needs is made before the fork.
    const char* path = std::getenv("PATH");
    std::string program = find_program(request.argv.at(0), path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
    if (program.empty()) return SpawnResult{-1, ENOENT};
    auto argv = c_strings(request.argv);
    auto envp = c_strings(request.env);
    sigset_t mask = request.mask ? *request.mask : child_mask();
    Pipe report = make_pipe();
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) return SpawnResult{-1, errno};
    if (pid == 0)
        exec_child(request, program.c_str(), argv.data(), envp.data(), mask, death_signal, parent, report.write.get());
    report.write.reset();
    if (request.new_process_group) ::setpgid(pid, pid);
    int error = 0;
    ssize_t n;
    do n = ::read(report.read.get(), &error, sizeof error);
    while (n < 0 && errno == EINTR);
    if (n == static_cast<ssize_t>(sizeof error)) {
        wait_for(pid);
        return SpawnResult{-1, error};
    }
    return SpawnResult{pid, 0};
}

bool wait_for_end(pid_t pid, TimePoint deadline) {
    Fd pidfd(open_pidfd(pid));
    while (!has_ended(pid)) {
        if (Clock::now() >= deadline) return false;
        PollSet set;
        if (pidfd) {
            set.add(pidfd.get(), POLLIN);
        }
        // Without a pidfd, look again every 10 ms.
        auto until = pidfd ? deadline : std::min(deadline, Clock::now() + std::chrono::milliseconds(10));
        if (wait(set, until) == Wake::signal) return false;
    }
    return true;
}

std::optional<ExitStatus> reap_by(pid_t pid, TimePoint deadline) {
    if (!wait_for_end(pid, deadline)) return std::nullopt;
    return wait_for(pid);
}

}  // namespace ppool::os
