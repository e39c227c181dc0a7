#include "worker/worker_loop.hpp"

#include "os/fd.hpp"
#include "ppool/task.hpp"

#include "os/process.hpp"
#include "os/signals.hpp"
#include "protocol/messages.hpp"
#include "protocol/packed.hpp"
#include "worker/command.hpp"
#include "worker/item_clock.hpp"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fmt/format.h>
#include <unistd.h>

extern char** environ;

namespace ppool::worker {

namespace {

/// What a worker keeps between tasks.
struct WorkerState {
    const WorkerConfig& config;
    int from_parent;
    int to_parent;
    std::vector<std::string> base_env;  // environ without PPOOL_SEQ, with PPOOL_WORKER
    std::string out;                    // frame being written
};

std::vector<std::string> make_base_env(int slot) {
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
        if (std::strncmp(*e, "PPOOL_WORKER=", 13) == 0 || std::strncmp(*e, "PPOOL_SEQ=", 10) == 0) continue;
        env.emplace_back(*e);
    }
    env.push_back(fmt::format("PPOOL_WORKER={}", slot));
    return env;
}

/// Results batched before a write, when batching is allowed.
constexpr std::size_t k_batch_bytes = 1 << 16;

bool task_is_command(const TaskInfo* task) { return task && task->is_command(); }

void send(WorkerState& w) {
    // A registered task's buffered prints reach stderr with its results,
    // rather than being lost when the worker ends with _exit.
    std::fflush(stdout);
    os::write_all(w.to_parent, w.out);
    w.out.clear();
}

/// Outputs at least this large travel as parts ahead of their result. The
/// parent holds up to a part per worker as it reads: small parts keep that
/// from growing with the number of workers.
constexpr std::size_t k_part_bytes = 64 << 10;

void send_part(WorkerState& w, std::uint64_t seq, protocol::Stream stream, std::string_view data) {
    send(w);
    protocol::encode_output_part(w.out, protocol::OutputPart{seq, stream, data});
    send(w);
}

/// Runs a registered function on one item; `output` and `error` hold the
/// bytes the returned message points to.
protocol::ResultMessage run_function(const TaskInfo& task, std::string_view item, std::string& output,
                                     std::string& error) {
    protocol::ResultMessage msg;
    output.clear();
    error.clear();
    try {
        output = task.function(item);
        msg.status = Status::ok;
    } catch (const std::exception& e) {
        error = e.what();
        msg.status = Status::error;
    } catch (...) {
        error = "unknown exception";
        msg.status = Status::error;
    }
    msg.output = output;
    msg.error = error;
    return msg;
}

/// Runs a command task on one item; false when the worker must stop.
bool run_command_task(WorkerState& w, const TaskInfo& task, const protocol::WireItem& item,
                      protocol::ResultMessage& msg, CommandOutcome& outcome, std::string& error) {
    CommandSpec spec;
    try {
        spec.argv = task.command(TaskContext{item.data, item.seq, w.config.slot});
    } catch (const std::exception& e) {
        // No command can be made for this item: its failure, not the worker's.
        msg.is_command = true;
        msg.status = Status::error;
        error = e.what();
        msg.error = error;
        return true;
    }
    spec.env = w.base_env;
    spec.env.push_back(fmt::format("PPOOL_SEQ={}", item.seq));
    if (task.item_on_stdin) spec.stdin_data = item.data;
    spec.timeout = w.config.task_timeout;
    spec.kill_grace = w.config.kill_grace;
    spec.parent_fd = w.from_parent;
    spec.part_bytes = k_part_bytes;
    spec.on_output = [&](int stream, std::string& data) {
        send_part(w, item.seq, stream == 1 ? protocol::Stream::out : protocol::Stream::err, data);
        data.clear();
    };
    outcome = run_command(spec);
    if (outcome.stop_worker) return false;
    msg.is_command = true;
    msg.output = outcome.out;
    msg.stderr_text = outcome.err;
    if (outcome.timed_out) {
        msg.status = Status::timeout;
        msg.error = "timed out";
    } else if (outcome.exit.signal) {
        msg.status = Status::signal;
        msg.signal = outcome.exit.signal;
    } else {
        msg.exit_code = outcome.exit.code;
        msg.status = outcome.exit.code == 0 ? Status::ok : Status::failed;
        if (outcome.spawn_error) {
            error = fmt::format("cannot run '{}': {}", spec.argv.empty() ? "" : spec.argv[0],
                                std::strerror(outcome.spawn_error));
            msg.error = error;
        }
    }
    return true;
}

/// A large result goes ahead in parts; the result frame carries the last one.
void send_large_output(WorkerState& w, protocol::ResultMessage& msg) {
    while (msg.output.size() > k_part_bytes) {
        send_part(w, msg.seq, protocol::Stream::out, msg.output.substr(0, k_part_bytes));
        msg.output.remove_prefix(k_part_bytes);
    }
}

std::uint64_t nanoseconds(std::chrono::steady_clock::duration d) {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
}

void run_chunk(WorkerState& w, const protocol::RunMessage& run) {
    const TaskInfo* task = TaskRegistry::global().find(run.task);
    std::string output, error;
    // One clock reading per item: an item's end is the next one's start.
    auto start = std::chrono::steady_clock::now();
    for (const auto& item : run.items) {
        protocol::ResultMessage msg;
        CommandOutcome outcome;
        if (!task) {
            msg.status = Status::error;
            msg.error = "unknown task";
        } else if (task->is_command()) {
            if (!run_command_task(w, *task, item, msg, outcome, error)) os::exit_with_group(128 + SIGTERM);
        } else {
            msg = run_function(*task, item.data, output, error);
        }
        msg.seq = item.seq;
        send_large_output(w, msg);
        auto end = std::chrono::steady_clock::now();
        msg.duration_ns = nanoseconds(end - start);
        start = end;
        protocol::encode_result(w.out, msg);
        // Without a timeout the parent needs no per-item timing, so a chunk's
        // results go out together (bounded); with one, each goes out at once
        // so that the parent's clock for the next item starts on time.
        bool last = &item == &run.items.back();
        if (last || w.config.task_timeout || task_is_command(task) || w.out.size() >= k_batch_bytes) send(w);
    }
}

/// Successful results collected for one run_result frame.
struct PendingRun {
    protocol::RunResultMessage msg;
    std::vector<std::uint64_t> sizes;  // printed size << 1 | newline added
    std::vector<std::uint64_t> ticks;  // run time in clock ticks
    std::string meta;
    std::string text;

    void add(std::uint64_t seq, std::string_view item, std::string_view output, std::uint64_t lap) {
        if (msg.count++ == 0) msg.first_seq = seq;
        msg.input_bytes += item.size() + 1;
        // Printed as text output prints a registered task's result: ending with a newline.
        bool added = output.empty() || output.back() != '\n';
        text += output;
        if (added) text += '\n';
        sizes.push_back((output.size() + added) << 1 | added);
        ticks.push_back(lap);
    }
    void send(WorkerState& w, ItemClock& clock) {
        if (msg.count == 0) return;
        double ns_per_tick = clock.rescale();
        for (std::size_t i = 0; i < sizes.size(); ++i) {
            protocol::append_varint(meta, sizes[i]);
            protocol::append_varint(meta, static_cast<std::uint64_t>(static_cast<double>(ticks[i]) * ns_per_tick));
        }
        msg.meta = meta;
        msg.text = text;
        protocol::encode_run_result(w.out, msg);
        worker::send(w);
        msg = {};
        sizes.clear();
        ticks.clear();
        meta.clear();
        text.clear();
    }
};

/// Runs a registered task over packed items: successes go back as runs, any
/// other result (a failure, a large output) on its own, in order.
void run_packed(WorkerState& w, const protocol::PackedRunMessage& run) {
    const TaskInfo* task = TaskRegistry::global().find(run.task);
    std::string output, error;
    PendingRun pending;
    std::string_view rest = run.items;
    ItemClock clock;
    for (std::uint64_t seq = run.first_seq; !rest.empty(); ++seq) {
        auto item = rest.substr(0, rest.find(run.separator));
        rest.remove_prefix(item.size() + 1);
        protocol::ResultMessage msg;
        if (task && !task->is_command()) {
            msg = run_function(*task, item, output, error);
        } else {
            msg.status = Status::error;
            msg.error = "unknown task";
        }
        auto lap = clock.lap();
        if (msg.status == Status::ok && msg.output.size() < k_batch_bytes) {
            pending.add(seq, item, msg.output, lap);
            if (pending.text.size() >= k_batch_bytes) pending.send(w, clock);
            continue;
        }
        pending.send(w, clock);
        msg.seq = seq;
        msg.duration_ns = static_cast<std::uint64_t>(static_cast<double>(lap) * clock.rescale());
        send_large_output(w, msg);
        protocol::encode_result(w.out, msg);
        send(w);
    }
    pending.send(w, clock);
}

/// Runs the initializer; an empty string on success, else why it failed.
std::string run_initializer(WorkerState& w) {
    const auto& o = w.config;
    if (!o.initializer.empty()) {
        const TaskInfo* init = TaskRegistry::global().find(o.initializer);
        if (!init || init->is_command()) return fmt::format("unknown initializer '{}'", o.initializer);
        try {
            init->function(o.initargs);
        } catch (const std::exception& e) {
            return e.what();
        }
    }
    if (!o.initializer_command.empty()) {
        CommandSpec spec;
        spec.argv = {"/bin/sh", "-c", o.initializer_command};
        spec.env = w.base_env;
        spec.timeout = o.task_timeout;
        spec.kill_grace = o.kill_grace;
        spec.parent_fd = w.from_parent;
        // What the initializer prints is diagnostics: pass it on as it comes.
        spec.on_output = [](int, std::string& data) {
            os::write_all(2, data);
            data.clear();
        };
        auto outcome = run_command(spec);
        if (outcome.stop_worker) os::exit_with_group(128 + SIGTERM);
        // The initializer has no result: what it prints is diagnostics.
        os::write_all(2, outcome.out);
        os::write_all(2, outcome.err);
        if (outcome.timed_out) return "timed out";
        if (outcome.exit.signal) return fmt::format("killed by {}", os::signal_name(outcome.exit.signal));
        if (outcome.exit.code != 0) return fmt::format("exit status {}", outcome.exit.code);
    }
    return {};
}

}  // namespace

bool read_frame(int fd, std::string& payload, protocol::FrameType& type) {
    char header[protocol::k_header_size];
    if (!os::read_exact(fd, header, sizeof header)) return false;
    protocol::Reader r(std::string_view(header, sizeof header));
    type = static_cast<protocol::FrameType>(r.u8());
    payload.resize(static_cast<std::size_t>(r.u64()));
    return payload.empty() || os::read_exact(fd, payload.data(), payload.size());
}

void serve(const WorkerConfig& config, int from_parent, int to_parent) {
    int status = 0;
    try {
        WorkerState w{config, from_parent, to_parent, make_base_env(config.slot), {}};
        auto failure = run_initializer(w);
        if (!failure.empty()) {
            protocol::encode_init_failed(w.out, failure);
            send(w);
            os::exit_with_group(0);
        }
        protocol::encode_ready(w.out);
        send(w);
        std::string payload;
        protocol::FrameType type{};
        while (read_frame(w.from_parent, payload, type)) {
            if (type == protocol::FrameType::packed_run) run_packed(w, protocol::decode_packed_run(payload));
            else if (type == protocol::FrameType::run) run_chunk(w, protocol::decode_run(payload));
            else throw protocol::ProtocolError("unexpected frame");
        }
    } catch (const std::exception& e) {
        // The pool is gone (EPIPE) or the stream is corrupt: nothing to report to.
        status = 1;
    }
    os::exit_with_group(status);
}

}  // namespace ppool::worker
