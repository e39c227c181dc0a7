#include "worker/launcher.hpp"

#include "os/process.hpp"
#include "os/signals.hpp"
#include "os/spawn.hpp"
#include "worker/worker_main.hpp"

#include <cerrno>
#include <csignal>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <system_error>
#include <unistd.h>

namespace ppool::worker {

namespace {

/// What to try when starting a worker failed with `error`; empty when no
/// limit was reached.
std::string start_hint(int error) {
    switch (error) {
    case EAGAIN: return "lower -j, or raise the process limit (ulimit -u)";
    case EMFILE: return "lower -j, or raise the open file limit (ulimit -n)";
    case ENFILE: return "the system's table of open files is full: lower -j";
    case ENOMEM: return "out of memory: lower -j";
    default: return "";
    }
}

}  // namespace

Channel make_channel() {
    Channel c;
    try {
        c.down = os::make_socket_channel();
        c.up = os::make_pipe();
    } catch (const std::system_error& e) {
        throw StartError(e.code().value(), c.down.read ? "pipe2" : "socketpair");
    }
    // Larger pipes mean fewer wake-ups for big chunks and outputs.
    os::widen_pipe(c.up.write.get());
    return c;
}

namespace {

class ForkLauncher final : public Launcher {
public:
    LaunchedWorker launch() override {
        auto c = make_channel();
        pid_t parent = ::getpid();
        // The child starts with SIGTERM held back: one sent before it has its
        // own handler must not run this process's (a test framework's, say) in it.
        pid_t pid = os::fork_holding(SIGTERM);
        if (pid < 0) throw StartError(errno, "fork");
        if (pid == 0) {
            c.down.write.reset();
            c.up.read.reset();
            run_forked_worker(std::move(c.down.read), std::move(c.up.write), parent);
        }
        // The worker makes its group too; doing it here as well means no
        // signal to the group can miss it.
        os::give_own_group(pid);
        return LaunchedWorker{pid, std::move(c.down.write), std::move(c.up.read), {}, nullptr};
    }
    const std::string& name() const override { return m_name; }

private:
    std::string m_name = "fork";
};

/// Runs `argv` with the channel as its stdin and stdout, in a process group
/// of its own, its stderr kept for the pool to pass on.
class CommandLauncher final : public Launcher {
public:
    CommandLauncher(std::vector<std::string> argv, std::string name, bool users)
        : m_argv(std::move(argv)), m_name(std::move(name)), m_users(users) {}

    LaunchedWorker launch() override { return launch_command(m_argv); }
    const std::string& name() const override { return m_name; }
    bool runs_a_command() const override { return m_users; }
    std::size_t extra_descriptors() const override { return 1; }

private:
    std::vector<std::string> m_argv;
    std::string m_name;
    bool m_users;
};

}  // namespace

std::string this_program() {
    char path[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0) throw std::system_error(errno, std::generic_category(), "readlink /proc/self/exe");
    return std::string(path, static_cast<std::size_t>(n));
}

const std::string& Launcher::host() const {
    static const std::string k_this_machine = ":";
    return k_this_machine;
}

LaunchedWorker launch_command(const std::vector<std::string>& argv, bool pipe_input) {
    auto c = make_channel();
    if (pipe_input) {
        try {
            c.down = os::make_pipe();
        } catch (const std::system_error& e) {
            throw StartError(e.code().value(), "pipe2");
        }
        os::widen_pipe(c.down.write.get());
    }
    os::Pipe err;
    try {
        err = os::make_pipe();
    } catch (const std::system_error& e) {
        throw StartError(e.code().value(), "pipe2");
    }
    auto spawned =
        os::spawn(os::SpawnRequest{argv, os::environment(), c.down.read.get(), c.up.write.get(), err.write.get(),
                                   true, nullptr});
    if (spawned.error != 0) throw StartError(spawned.error, "cannot run " + argv.front());
    os::set_nonblocking(err.read.get(), true);
    return LaunchedWorker{spawned.pid, std::move(c.down.write), std::move(c.up.read), std::move(err.read), nullptr};
}

StartError::StartError(int error, const std::string& call)
    : std::runtime_error("cannot start a worker: " + call + ": " + std::strerror(error) +
                         (start_hint(error).empty() ? "" : "; " + start_hint(error))),
      m_reason(call + ": " + std::strerror(error)),
      m_limit_reached(!start_hint(error).empty()) {}

std::unique_ptr<Launcher> make_launcher(const std::string& spec) {
    if (spec.empty() || spec == "fork") return std::make_unique<ForkLauncher>();
    if (spec == "exec")
        return std::make_unique<CommandLauncher>(std::vector<std::string>{this_program(), "worker", "--stdio"}, "exec",
                                                 false);
    return std::make_unique<CommandLauncher>(std::vector<std::string>{"/bin/sh", "-c", spec},
                                             "the launcher '" + spec + "'", true);
}

}  // namespace ppool::worker
