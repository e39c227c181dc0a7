#include "worker/command.hpp"

#include "os/event_loop.hpp"
#include "os/fd.hpp"
#include "os/signals.hpp"
#include "os/spawn.hpp"

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <optional>
#include <string_view>
#include <fcntl.h>
#include <unistd.h>

namespace ppool::worker {

namespace {

volatile sig_atomic_t g_group = 0;
volatile sig_atomic_t g_stop = 0;

extern "C" void on_sigterm(int) {
    g_stop = 1;
    pid_t group = g_group;
    if (group > 0)
        ::kill(-group, SIGTERM);
    else
        os::exit_with_group(128 + SIGTERM);
}

/// The stages of stopping a command: TERM first, KILL after the grace period.
struct Stopper {
    pid_t group;
    double grace;
    std::optional<os::TimePoint> kill_at;
    bool killed = false;

    void begin() {
        if (kill_at) return;
        os::signal_group(group, SIGTERM);
        kill_at = os::Clock::now() + os::seconds(grace);
    }
    void on_time(os::TimePoint now) {
        if (kill_at && !killed && now >= *kill_at) {
            os::signal_group(group, SIGKILL);
            killed = true;
        }
    }
};

/// Leaving run_command early (the pool went away while an output part was
/// being sent) kills and reaps the command's group: it never outlives its worker.
struct CommandGuard {
    pid_t pid;
    explicit CommandGuard(pid_t p) : pid(p) {}
    CommandGuard(const CommandGuard&) = delete;
    CommandGuard& operator=(const CommandGuard&) = delete;
    ~CommandGuard() {
        if (pid <= 0) return;
        g_group = 0;
        os::signal_group(pid, SIGKILL);
        try {
            os::wait_for(pid);
        } catch (const std::exception&) {
            // Reaped already: nothing left to stop.
        }
    }
};

/// Reads what the pipe has, up to `limit` bytes held, so that a fast writer
/// cannot make the worker hold more than one part.
void drain(os::Fd& fd, std::string& into, std::size_t limit) {
    while (fd && into.size() < limit) {
        auto status = os::read_some(fd.get(), into, 1 << 16);
        if (status == os::IoStatus::closed) fd.reset();
        if (status != os::IoStatus::done) return;
    }
}

/// Writes what the command's stdin takes; closes it when all is written or the
/// command stopped reading (a command may rightly read only part of its input).
void feed(os::Fd& fd, std::string_view& data) {
    if (os::write_some(fd.get(), data) != os::IoStatus::would_block) fd.reset();
}

std::optional<os::TimePoint> earliest(std::optional<os::TimePoint> a, std::optional<os::TimePoint> b) {
    if (!a) return b;
    if (!b) return a;
    return std::min(*a, *b);
}

}  // namespace

void install_worker_term_handler() {
    struct sigaction sa {};
    sa.sa_handler = on_sigterm;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
}

void unblock_worker_term() {
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_UNBLOCK, &term, nullptr);
}

namespace {

/// The value of PATH in `env`, if it has one.
std::optional<std::string_view> path_of(const std::vector<std::string>& env) {
    for (const auto& variable : env)
        if (std::string_view(variable).substr(0, 5) == "PATH=") return std::string_view(variable).substr(5);
    return std::nullopt;
}

/// Starts the command, its program found in the PATH of its environment
/// once per run, as a shell's hash table finds it; a program that has gone
/// since is searched for again.
os::SpawnResult spawn_command(os::SpawnRequest request) {
    static os::ProgramPaths paths;
    const std::string& name = request.argv.at(0);
    auto path = path_of(request.env);
    if (!path || name.find('/') != std::string::npos) return os::spawn(request);
    request.program = paths.find(name, *path);
    if (request.program.empty()) return os::spawn(request);
    auto spawned = os::spawn(request);
    if (spawned.error != ENOENT && spawned.error != EACCES) return spawned;
    paths.forget(name);
    request.program = paths.find(name, *path);
    return os::spawn(request);
}

}  // namespace

CommandOutcome run_command(const CommandSpec& spec) {
    CommandOutcome outcome;
    os::Fd own_null;
    if (spec.null_fd < 0 && !spec.stdin_data) own_null = os::open_dev_null();
    int null_fd = spec.null_fd >= 0 ? spec.null_fd : own_null.get();
    auto out = os::make_pipe();
    auto err = os::make_pipe();
    os::Pipe in;
    if (spec.stdin_data) in = os::make_pipe();
    int stdin_fd = spec.stdin_data ? in.read.get() : null_fd;
    // SIGTERM waits until the command's group is known to the handler, which
    // forwards it there: one that came in between would end the worker and
    // leave the command running.
    os::SpawnResult spawned;
    {
        os::SignalHold hold(SIGTERM);
        spawned = spawn_command(
            os::SpawnRequest{spec.argv, spec.env, stdin_fd, out.write.get(), err.write.get(), true, &hold.previous()});
        if (spawned.error == 0) g_group = spawned.pid;
    }
    out.write.reset();
    err.write.reset();
    in.read.reset();
    std::string_view to_write = spec.stdin_data.value_or(std::string_view());
    // Nothing to write: the command sees end of file at once.
    if (to_write.empty()) in.write.reset();
    if (spawned.error != 0) {
        outcome.spawn_error = spawned.error;
        outcome.exit = os::ExitStatus{os::exec_failure_status(spawned.error), 0};
        return outcome;
    }
    pid_t pid = spawned.pid;
    CommandGuard guard(pid);
    if (g_stop) os::signal_group(pid, SIGTERM);
    os::set_nonblocking_fresh(out.read.get());
    os::set_nonblocking_fresh(err.read.get());
    if (in.write) os::set_nonblocking_fresh(in.write.get());
    os::Fd pidfd(os::open_pidfd(pid));

    Stopper stopper{pid, spec.kill_grace, {}, false};
    std::optional<os::TimePoint> deadline;
    if (spec.timeout) deadline = os::Clock::now() + os::seconds(*spec.timeout);
    std::optional<os::TimePoint> drain_until;
    bool ended = false;
    bool widened = false;

    while (!ended || out.read || err.read) {
        os::PollSet set;
        std::size_t out_i = out.read ? set.add(out.read.get(), POLLIN) : 0;
        std::size_t err_i = err.read ? set.add(err.read.get(), POLLIN) : 0;
        // Written while it reads, so that a command filling its stdout never deadlocks with us.
        std::size_t in_i = in.write ? set.add(in.write.get(), POLLOUT) : 0;
        std::size_t pid_i = !ended && pidfd ? set.add(pidfd.get(), POLLIN) : 0;
        std::size_t parent_i = set.add(spec.parent_fd, 0);
        auto wake_at = earliest(stopper.kill_at && !stopper.killed ? stopper.kill_at : std::nullopt, drain_until);
        if (!outcome.timed_out) wake_at = earliest(wake_at, deadline);
        // Without a pidfd the leader's exit is only seen by looking now and then.
        if (!ended && !pidfd) wake_at = earliest(wake_at, os::Clock::now() + std::chrono::milliseconds(20));
        os::wait(set, wake_at);

        // Without a taker for parts, the whole output is kept.
        std::size_t limit = spec.on_output ? spec.part_bytes : SIZE_MAX;
        bool taken = false;
        if (out.read && set.revents(out_i) && widened && outcome.out.empty() && spec.take_output) {
            // A large output goes on straight from the pipe, a part at a time.
            auto waiting = os::bytes_waiting(out.read.get());
            taken = waiting >= spec.part_bytes && spec.take_output(out.read.get(), spec.part_bytes);
        }
        if (out.read && set.revents(out_i) && !taken) drain(out.read, outcome.out, limit);
        if (err.read && set.revents(err_i)) drain(err.read, outcome.err, limit);
        if (in.write && set.revents(in_i)) feed(in.write, to_write);
        if (spec.on_output) {
            if (outcome.out.size() >= spec.part_bytes && !widened) {
                // A large output: a wider pipe lets the command write on while the part goes out.
                os::widen_pipe(out.read.get());
                widened = true;
            }
            if (outcome.out.size() >= spec.part_bytes) spec.on_output(1, outcome.out);
            if (outcome.err.size() >= spec.part_bytes) spec.on_output(2, outcome.err);
        }
        if (set.revents(parent_i) & (POLLHUP | POLLERR)) g_stop = 1;
        if (g_stop && !outcome.stop_worker) {
            outcome.stop_worker = true;
            stopper.begin();
        }
        auto now = os::Clock::now();
        if (!outcome.timed_out && deadline && now >= *deadline && !ended) {
            outcome.timed_out = true;
            stopper.begin();
        }
        stopper.on_time(now);
        // With a pidfd the leader's exit is what makes it readable: no need to look before.
        if (!ended && (!pidfd || set.revents(pid_i)) && os::has_ended(pid)) {
            ended = true;
            in.write.reset();
            // The leader is a zombie, so its group id cannot be reused yet.
            os::signal_group(pid, SIGKILL);
            drain_until = now + std::chrono::seconds(1);
        }
        if (drain_until && now >= *drain_until) break;
    }
    g_group = 0;
    guard.pid = 0;
    outcome.exit = os::wait_for(pid);
    return outcome;
}

}  // namespace ppool::worker
