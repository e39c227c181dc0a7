// A worker's start, however it was started: the process is set up, told
// everything by the configure message, and answers with a hello.
#include "worker/worker_main.hpp"

#include "os/cpu.hpp"
#include "os/keeper.hpp"
#include "os/process.hpp"
#include "os/signals.hpp"
#include "ppool/plugins.hpp"
#include "ppool/task.hpp"
#include "protocol/session.hpp"
#include "worker/command.hpp"
#include "worker/worker_loop.hpp"

#include <csignal>
#include <cstdio>
#include <exception>
#include <fcntl.h>
#include <fmt/format.h>
#include <stdio_ext.h>
#include <unistd.h>

namespace ppool::worker {

namespace {

/// Group, signals and descriptors of a fresh worker: dies with whatever
/// started it, ignores the terminal's SIGINT/SIGHUP (the pool decides), and
/// cannot touch ppool's stdin or stdout.
void set_up_process(int from_parent, int to_parent) {
    // What a registered task starts stays in the worker's group, which ends
    // with the worker; a signal to ppool's group is for ppool to handle.
    os::lead_own_group();
    // Dispositions first, while the pool's signals are still blocked: a
    // SIGTERM already pending must find the worker's handler, not the pool's.
    std::signal(SIGINT, SIG_IGN);
    std::signal(SIGHUP, SIG_IGN);
    std::signal(SIGPIPE, SIG_IGN);
    install_worker_term_handler();
    os::forget_catcher_in_child();
    os::die_with_parent(SIGTERM);
    unblock_worker_term();
    auto null = os::open_dev_null();
    ::dup2(null.get(), 0);
    // What was buffered for stdout but not yet written is not this worker's to write.
    ::__fpurge(stdout);
    // Stray prints of a registered task go to stderr, never into the results.
    ::dup2(2, 1);
    os::close_fds_except({from_parent, to_parent});
}

}  // namespace

void register_command_task(const protocol::CommandTaskSpec& c) {
    auto& registry = TaskRegistry::global();
    if (registry.find(c.name)) return;
    registry.add_command(c.name, "a command",
                         CommandLine{c.words, c.append_item, c.item_on_stdin, c.item_is_args, c.context_replace,
                                     c.replace, c.stdin_file, c.in_shell, c.shell});
}

std::string apply_configuration(const protocol::ConfigureMessage& msg) {
    try {
        for (const auto& plugin : msg.plugins) load_plugin(plugin);
        for (const auto& c : msg.commands) register_command_task(c);
    } catch (const std::exception& e) {
        return e.what();
    }
    return {};
}

protocol::HelloMessage hello_message(std::string error) {
    protocol::HelloMessage msg;
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) == 0) msg.host = host;
    msg.cpus = static_cast<std::uint32_t>(os::usable_cpus());
    for (const TaskInfo* task : TaskRegistry::global().list()) msg.tasks.push_back(task->name);
    msg.error = std::move(error);
    return msg;
}

WorkerConfig config_of(const protocol::ConfigureMessage& msg) {
    WorkerConfig c;
    c.slot = msg.slot;
    c.initializer = msg.initializer;
    c.initargs = msg.initargs;
    c.initializer_command = msg.initializer_command;
    c.shell = msg.shell;
    c.environment = msg.environment;
    if (msg.task_timeout_ns) c.task_timeout = static_cast<double>(*msg.task_timeout_ns) / 1e9;
    c.kill_grace = static_cast<double>(msg.kill_grace_ns) / 1e9;
    c.returns = msg.returns;
    c.cleanup = msg.cleanup;
    c.live_output = msg.live_output;
    return c;
}

namespace {

/// Reads the configure message, answers it, and serves the channel.
[[noreturn]] void start(int from_parent, int to_parent) {
    try {
        std::string payload;
        protocol::FrameType type{};
        if (!read_frame(from_parent, payload, type)) os::exit_with_group(0);
        if (type != protocol::FrameType::configure) throw protocol::ProtocolError("the first frame is not configure");
        auto msg = protocol::decode_configure(payload);
        std::string error;
        if (msg.version != protocol::k_protocol_version)
            error = fmt::format("this worker speaks protocol version {}, the pool version {}",
                                protocol::k_protocol_version, msg.version);
        else
            error = apply_configuration(msg);
        std::string out;
        protocol::encode_hello(out, hello_message(error));
        os::write_all(to_parent, out);
        if (!error.empty()) os::exit_with_group(0);
        const WorkerConfig config = config_of(msg);
        serve(config, from_parent, to_parent);
    } catch (const std::exception&) {
        // The pool is gone or speaks no protocol: nothing to report to.
        os::exit_with_group(1);
    }
}

}  // namespace

/// Leaves this process, which the pool knows, as the keeper of the worker
/// that goes on in its child: a third party's SIGKILL of the worker cannot
/// leave its commands running, and the pool learns that the worker has ended
/// once nothing of it is left.
void keep_worker(int to_parent) { os::split_off_keeper(SIGTERM, {to_parent}); }

void run_forked_worker(os::Fd from_parent, os::Fd to_parent, pid_t pool_pid) {
    set_up_process(from_parent.get(), to_parent.get());
    if (::getppid() != pool_pid) os::exit_with_group(0);
    keep_worker(to_parent.get());
    start(from_parent.release(), to_parent.release());
}

void run_stdio_worker() {
    // The channel moves off descriptors 0 and 1, which then behave as in a forked worker.
    int from_parent = ::fcntl(0, F_DUPFD_CLOEXEC, 3);
    int to_parent = ::fcntl(1, F_DUPFD_CLOEXEC, 3);
    if (from_parent < 0 || to_parent < 0) {
        std::fprintf(stderr, "ppool worker: no channel on stdin and stdout\n");
        ::_exit(2);
    }
    set_up_process(from_parent, to_parent);
    keep_worker(to_parent);
    // A server's worker may be lent to a client's pool.
    register_lend_task();
    start(from_parent, to_parent);
}

}  // namespace ppool::worker
