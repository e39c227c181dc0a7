#include "worker/worker_loop.hpp"

#include "os/fd.hpp"
#include "os/file.hpp"
#include "os/unix_socket.hpp"
#include "ppool/task.hpp"

#include "os/process.hpp"
#include "os/signals.hpp"
#include "protocol/messages.hpp"
#include "worker/command.hpp"
#include "worker/file_transfer.hpp"
#include "worker/command_template.hpp"
#include "worker/item_clock.hpp"

#include <algorithm>
#include <span>
#include <map>
#include <stdexcept>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <cxxabi.h>
#include <exception>
#include <memory>
#include <typeinfo>
#include <fmt/format.h>
#include <mutex>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace ppool::worker {

namespace {

/// Results collected for one results frame.
struct PendingResults {
    std::vector<std::uint64_t> ticks;  // run time in clock ticks, an entry per result
    std::string meta;
    std::string durations;
    std::string text;
    std::string extra;
};

/// What a worker keeps between tasks.
struct WorkerState {
    WorkerState(const WorkerConfig& c, int from, int to, std::vector<std::string> env)
        : config(c), from_parent(from), to_parent(to), base_env(std::move(env)) {}
    WorkerState(const WorkerState&) = delete;
    WorkerState& operator=(const WorkerState&) = delete;
    /// Stops the monitor: a lent worker's state ends while the worker goes on.
    ~WorkerState() {
        if (!monitor_thread.joinable()) return;
        stop_monitor.store(true, std::memory_order_release);
        monitor_thread.join();
    }

    const WorkerConfig& config;
    int from_parent;
    int to_parent;
    std::vector<std::string> base_env;  // environ without PPOOL_SEQ, with PPOOL_WORKER
    std::string out;                    // frame being written
    PendingResults pending;
    ItemClock clock;
    // A registered task runs with a monitor thread beside it: it ends the
    // worker when the channel closes (the pool stopped it, or is gone) while
    // the task is busy and the loop cannot read, and with a timeout it sends
    // the results collected once they have waited a while, saying how long
    // the running item has run: the parent's clock then needs no frame per
    // item. It shares the fields above under `send_mutex`.
    std::mutex send_mutex;
    std::atomic<std::uint64_t> running_seq{0};  // 0: no item running
    /// When the running item started, in ItemClock ticks: a clock read per
    /// item must cost less than `len` does, and the monitor converts.
    std::atomic<std::uint64_t> running_since_ticks{0};
    std::atomic<bool> in_function{false};  // a registered function runs now
    std::uint64_t last_send_ns = 0;
    bool monitored = false;
    std::thread monitor_thread;
    std::atomic<bool> stop_monitor{false};
    /// The pool times each chunk itself (--timeout N%): set by the first run that says so.
    bool timed_by_pool = false;
    /// The limit of the items of the chunk running now.
    std::optional<double> timeout;
    FileReceiver files;  // what the pool sends ahead of the items (--transfer)
    os::Fd dev_null = os::open_dev_null();  // the stdin of commands given no input
};

/// environ without PPOOL_SEQ, with PPOOL_WORKER and what --env passes (which
/// replaces a variable of the same name).
std::vector<std::string> make_base_env(const WorkerConfig& config) {
    auto name_of = [](std::string_view variable) { return variable.substr(0, variable.find('=') + 1); };
    auto passed = [&](std::string_view variable) {
        return std::any_of(config.environment.begin(), config.environment.end(),
                           [&](const std::string& v) { return name_of(v) == name_of(variable); });
    };
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
        if (std::strncmp(*e, "PPOOL_WORKER=", 13) == 0 || std::strncmp(*e, "PPOOL_SEQ=", 10) == 0 || passed(*e))
            continue;
        env.emplace_back(*e);
    }
    env.insert(env.end(), config.environment.begin(), config.environment.end());
    env.push_back(fmt::format("PPOOL_WORKER={}", config.slot));
    return env;
}

/// Results batched before a write, when batching is allowed.
constexpr std::size_t k_batch_bytes = 1 << 16;

void send(WorkerState& w) {
    // A registered task's buffered prints reach stderr with its results,
    // rather than being lost when the worker ends with _exit.
    std::fflush(stdout);
    os::write_all(w.to_parent, w.out);
    w.out.clear();
}

/// Sends the results collected so far as one frame; the item after them has run `running_ns`.
void send_results(WorkerState& w, std::uint64_t running_ns = 0) {
    auto& p = w.pending;
    if (p.ticks.empty()) return;
    double ns_per_tick = w.clock.rescale();
    for (auto ticks : p.ticks)
        protocol::append_varint(p.durations, static_cast<std::uint64_t>(static_cast<double>(ticks) * ns_per_tick));
    protocol::encode_results(w.out, protocol::ResultsMessage{p.ticks.size(), running_ns, p.meta, p.durations, p.text,
                                                             p.extra});
    send(w);
    if (w.monitored) w.last_send_ns = ItemClock::now_ns();
    p.ticks.clear();
    p.meta.clear();
    p.durations.clear();
    p.text.clear();
    p.extra.clear();
}

/// Outputs at least this large travel as parts ahead of their result. The
/// parent holds up to a part per worker as it reads: small parts keep that
/// from growing with the number of workers.
constexpr std::size_t k_part_bytes = 64 << 10;

void send_part(WorkerState& w, std::uint64_t seq, protocol::Stream stream, std::string_view data) {
    // The results before this item go first: a part belongs to the first item not yet reported.
    send_results(w);
    // The bytes go from where they are, behind the frame's head: no copy into the frame.
    protocol::encode_output_part_head(w.out, seq, stream, data.size());
    std::fflush(stdout);
    os::write_all(w.to_parent, w.out, data);
    w.out.clear();
}

/// Sends a piece of a running command's output at once (--line-buffer, --ungroup).
void send_live(WorkerState& w, std::uint64_t seq, protocol::Stream stream, std::string_view data) {
    if (data.empty()) return;
    // The results before this item go first, as for a part.
    send_results(w);
    protocol::encode_live_output(w.out, protocol::OutputPart{seq, stream, data});
    send(w);
}

/// How one item ended, pointing into the strings that hold its texts.
struct Outcome {
    Status status = Status::error;
    std::optional<int> exit_code;
    std::optional<int> signal;
    std::string_view output;
    std::string_view stderr_text;
    std::string_view error;
    std::string_view error_type;  ///< the type of the exception a registered task threw
};

/// The name of the exception's type as C++ spells it ("std::out_of_range").
std::string type_name(const std::exception& e) {
    const char* mangled = typeid(e).name();
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
    return status == 0 && name ? std::string(name.get()) : std::string(mangled);
}

/// How a registered function failed; called while its exception is handled.
Outcome failed_function(std::string& error, std::string& type) {
    try {
        throw;
    } catch (const std::exception& e) {
        error = e.what();
        type = type_name(e);
    } catch (...) {
        error = "unknown exception";
    }
    Outcome o;
    o.error = error;
    o.error_type = type;
    return o;
}

/// Runs a registered function on one item; `output`, `error` and `type` hold the bytes.
Outcome run_function(const TaskInfo& task, std::string_view item, std::string& output, std::string& error,
                     std::string& type) {
    output.clear();
    error.clear();
    type.clear();
    try {
        output = task.function(item);
    } catch (...) {
        return failed_function(error, type);
    }
    Outcome o;
    o.status = Status::ok;
    o.output = output;
    return o;
}

std::string timeout_text(const WorkerState& w) {
    return fmt::format("timed out after {:g}s", w.timeout.value_or(0));
}

/// Runs a command task on one item; false when the worker must stop.
bool run_command_task(WorkerState& w, const TaskInfo& task, const protocol::WireItem& item, Outcome& o,
                      CommandOutcome& outcome, std::string& error) {
    CommandSpec spec;
    std::string part;  // --pipepart: the part of the file this item names
    try {
        spec.argv = task.command(TaskContext{item.data, item.seq, w.config.slot});
        if (task.command_line && !task.command_line->stdin_file.empty())
            part = read_file_part(task.command_line->stdin_file, item.data);
    } catch (const std::exception& e) {
        // No command can be made for this item: its failure, not the worker's.
        error = e.what();
        o.error = error;
        return true;
    }
    spec.env = w.base_env;
    spec.env.push_back(fmt::format("PPOOL_SEQ={}", item.seq));
    if (task.item_on_stdin) spec.stdin_data = item.data;
    if (task.command_line && !task.command_line->stdin_file.empty()) spec.stdin_data = part;
    spec.timeout = w.timeout;
    spec.kill_grace = w.config.kill_grace;
    spec.null_fd = w.dev_null.get();
    spec.parent_fd = w.from_parent;
    spec.part_bytes = w.config.live_output ? 1 : k_part_bytes;
    spec.on_output = [&](int stream, std::string& data) {
        auto which = stream == 1 ? protocol::Stream::out : protocol::Stream::err;
        if (w.config.live_output)
            send_live(w, item.seq, which, data);
        else
            send_part(w, item.seq, which, data);
        data.clear();
    };
    if (!w.config.live_output)
        spec.take_output = [&](int fd, std::size_t n) {
            // As send_part, but the bytes go from the command's pipe to the pool's.
            send_results(w);
            protocol::encode_output_part_head(w.out, item.seq, protocol::Stream::out, n);
            std::fflush(stdout);
            os::write_all(w.to_parent, w.out);
            w.out.clear();
            os::move_from_pipe(fd, w.to_parent, n);
            return true;
        };
    outcome = run_command(spec);
    if (outcome.stop_worker) return false;
    if (w.config.live_output) {
        // What came after the last piece goes out the same way: the result holds none of it.
        send_live(w, item.seq, protocol::Stream::out, outcome.out);
        send_live(w, item.seq, protocol::Stream::err, outcome.err);
    } else {
        o.output = outcome.out;
        o.stderr_text = outcome.err;
    }
    if (outcome.timed_out) {
        o.status = Status::timeout;
        error = timeout_text(w);
        o.error = error;
    } else if (outcome.exit.signal) {
        o.status = Status::signal;
        o.signal = outcome.exit.signal;
    } else {
        o.exit_code = outcome.exit.code;
        o.status = outcome.exit.code == 0 ? Status::ok : Status::failed;
        if (outcome.spawn_error) {
            error = fmt::format("cannot run '{}': {}", spec.argv.empty() ? "" : spec.argv[0],
                                std::strerror(outcome.spawn_error));
            o.error = error;
        }
    }
    return true;
}

/// Adds a plain success to the pending results: `output`, a newline after
/// it if `added` (text output prints a registered task's result so), and
/// its entry of two bytes or so.
void add_plain(PendingResults& p, std::string_view output, bool added, std::uint64_t ticks) {
    p.ticks.push_back(ticks);
    p.text += output;
    if (added) p.text += '\n';
    protocol::EntryMeta e;
    e.status = Status::ok;
    e.added_newline = added;
    e.output_size = output.size() + added;
    protocol::append_entry(p.meta, e);
}

/// Adds an item's result to the pending ones; a large output goes ahead in
/// parts, and the entry carries its last one.
void add_result(WorkerState& w, std::uint64_t seq, Outcome& o, bool is_command, std::uint64_t ticks) {
    while (o.output.size() > k_part_bytes) {
        send_part(w, seq, protocol::Stream::out, o.output.substr(0, k_part_bytes));
        o.output.remove_prefix(k_part_bytes);
    }
    // Printed as text output prints a registered task's result: ending with a newline.
    bool added = !is_command && o.status == Status::ok && (o.output.empty() || o.output.back() != '\n');
    if (o.status == Status::ok && !o.exit_code && o.stderr_text.empty() && o.error.empty()) {
        add_plain(w.pending, o.output, added, ticks);
        return;
    }
    auto& p = w.pending;
    p.ticks.push_back(ticks);
    p.text += o.output;
    if (added) p.text += '\n';
    protocol::EntryMeta e;
    e.status = o.status;
    e.exit_code = o.exit_code;
    e.signal = o.signal;
    e.output_size = o.output.size() + added;
    e.added_newline = added;
    p.extra += o.stderr_text;
    e.stderr_size = o.stderr_text.size();
    p.extra += o.error;
    e.error_size = o.error.size();
    p.extra += o.error_type;
    e.error_type_size = o.error_type.size();
    protocol::append_entry(p.meta, e);
}

/// Results of a registered task wait at most this long before they go out (with a timeout).
constexpr std::uint64_t k_watch_ns = 10'000'000;

/// The monitor's loop (see WorkerState), until the state ends.
void monitor(WorkerState& w) {
    bool timed = w.config.task_timeout.has_value() || w.timed_by_pool;
    bool closed = false;
    // Ticks to nanoseconds: the rate since the monitor started.
    const auto start_ticks = ItemClock::ticks();
    const auto start_ns = ItemClock::now_ns();
    while (!w.stop_monitor.load(std::memory_order_acquire)) {
        if (closed) {
            // A hangup stays: look again by the clock, not by poll.
            std::this_thread::sleep_for(std::chrono::nanoseconds(k_watch_ns));
        } else {
            // Untimed, it still looks up now and then: the state may be ending.
            closed = os::wait_for_hangup(w.from_parent, timed ? static_cast<int>(k_watch_ns / 2'000'000) : 100);
        }
        // Told to stop, or the pool is gone, while a registered function is
        // busy: nothing else will notice, so the worker's group stops here.
        // Between items the loop reads the end of the channel, and a command's
        // runner stops its command group itself.
        if (closed && w.in_function.load(std::memory_order_acquire)) os::exit_with_group(128 + SIGTERM);
        if (!timed) continue;
        std::lock_guard lock(w.send_mutex);
        if (w.pending.ticks.empty()) continue;
        auto now = ItemClock::now_ns();
        if (now - w.last_send_ns < k_watch_ns) continue;
        std::uint64_t running = 0;
        if (w.running_seq.load(std::memory_order_acquire) != 0) {
            auto ticks = ItemClock::ticks();
            auto since = std::min(ticks, w.running_since_ticks.load(std::memory_order_relaxed));
            double ns_per_tick = ticks > start_ticks ? static_cast<double>(now - start_ns) /
                                                           static_cast<double>(ticks - start_ticks)
                                                     : 1.0;
            running = static_cast<std::uint64_t>(static_cast<double>(ticks - since) * ns_per_tick);
        }
        send_results(w, running);
    }
}

/// Sends the item's --return files back ahead of its result, then with
/// --cleanup removes them and the files sent for it.
void return_files(WorkerState& w, const protocol::WireItem& item, const ReceivedFiles& received) {
    TaskContext context{item.data, item.seq, w.config.slot};
    return_files(w.config.returns, w.config.cleanup, context, received, k_part_bytes,
                 [&](const protocol::FilePart& part) {
                     // The results before this item go first: a file belongs to the first item not yet reported.
                     send_results(w);
                     protocol::encode_file_part(w.out, part);
                     send(w);
                 });
}

/// With a clock shared with the monitor: item `seq` runs from now.
void item_started(WorkerState& w, std::uint64_t seq, bool shared) {
    if (!shared) return;
    w.running_since_ticks.store(ItemClock::ticks(), std::memory_order_relaxed);
    w.running_seq.store(seq, std::memory_order_release);
}

/// With a clock shared with the monitor: the item ended. The lock returned
/// (held then) keeps the monitor off the pending results while its result is added.
std::unique_lock<std::mutex> item_ended(WorkerState& w, bool shared) {
    std::unique_lock lock(w.send_mutex, std::defer_lock);
    if (shared) {
        lock.lock();
        w.running_seq.store(0, std::memory_order_relaxed);
    }
    return lock;
}

/// Runs a registered function over the chunk's items until a file comes
/// for one (--transfer): the usual case, with nothing made per item but its
/// result (a failure or a large output takes the general path). Returns how
/// many items it ran; the general loop takes the rest. `shared`: the monitor
/// sends results too (a timeout), and is told which item runs since when.
std::size_t run_plain(WorkerState& w, const TaskInfo& task, const std::vector<protocol::WireItem>& items,
                      bool shared) {
    std::size_t done = 0;
    std::string output, error, type;
    Outcome failure;  // made once: it is large, and most items never need it
    for (const auto& item : items) {
        // A file sent for an item (--transfer) is the general loop's to take.
        if (!w.files.empty()) break;
        ++done;
        item_started(w, item.seq, shared);
        w.in_function.store(true, std::memory_order_release);
        bool ok = true;
        try {
            output = task.function(item.data);
        } catch (...) {
            failure = failed_function(error, type);
            ok = false;
        }
        w.in_function.store(false, std::memory_order_release);
        auto lock = item_ended(w, shared);
        auto ticks = w.clock.lap();
        if (ok && output.size() <= k_part_bytes) {
            add_plain(w.pending, output, output.empty() || output.back() != '\n', ticks);
        } else {
            if (ok) {
                failure = Outcome{};
                failure.status = Status::ok;
                failure.output = output;
            }
            add_result(w, item.seq, failure, false, ticks);
        }
        if (w.pending.text.size() + w.pending.extra.size() >= k_batch_bytes) send_results(w);
    }
    return done;
}

/// Runs every item of a chunk; results go back in order, batched unless
/// each is wanted as it comes.
void run_chunk(WorkerState& w, const protocol::RunMessage& run) {
    const TaskInfo* task = TaskRegistry::global().find(run.task);
    bool is_command = task && task->is_command();
    w.timed_by_pool = w.timed_by_pool || run.timeout_ns.has_value();
    w.timeout = w.config.task_timeout;
    if (run.timeout_ns) {
        // The pool's limit for this chunk; 0: none yet.
        w.timeout.reset();
        if (*run.timeout_ns) w.timeout = static_cast<double>(*run.timeout_ns) / 1e9;
    }
    // A command's result is worth sending at once, and its own clock enforces its timeout.
    bool each = is_command;
    bool monitored = task && !is_command;
    if (monitored && !w.monitored) {
        w.monitored = true;
        w.last_send_ns = ItemClock::now_ns();
        w.monitor_thread = std::thread(monitor, std::ref(w));
    }
    // With a timeout the monitor sends results too: the pending ones are shared.
    bool shared = monitored && (w.config.task_timeout.has_value() || w.timed_by_pool);
    std::string output, error, error_type;
    CommandOutcome outcome;
    {
        std::unique_lock lock(w.send_mutex, std::defer_lock);
        if (shared) lock.lock();
        w.clock.lap();
    }
    std::size_t first = 0;
    if (monitored && w.config.returns.empty()) first = run_plain(w, *task, run.items, shared);
    for (const auto& item : std::span(run.items).subspan(first)) {
        item_started(w, item.seq, shared);
        Outcome o;
        auto sent = w.files.take(item.seq);
        if (!sent.error.empty()) {
            // Its file is not there: the item cannot run as asked.
            error = std::move(sent.error);
            o.error = error;
        } else if (!task) {
            o.error = "unknown task";
        } else if (is_command) {
            if (!run_command_task(w, *task, item, o, outcome, error)) os::exit_with_group(128 + SIGTERM);
        } else {
            w.in_function.store(true, std::memory_order_release);
            o = run_function(*task, item.data, output, error, error_type);
            w.in_function.store(false, std::memory_order_release);
        }
        auto lock = item_ended(w, shared);
        auto ticks = w.clock.lap();
        if (!w.config.returns.empty() || (w.config.cleanup && !sent.files.empty())) return_files(w, item, sent);
        add_result(w, item.seq, o, is_command, ticks);
        if (each || w.pending.text.size() + w.pending.extra.size() >= k_batch_bytes) send_results(w);
    }
    std::unique_lock lock(w.send_mutex, std::defer_lock);
    if (shared) lock.lock();
    send_results(w);
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
        spec.argv = {o.shell.empty() ? std::string("/bin/sh") : o.shell, "-c", o.initializer_command};
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

/// The command tasks of a pool a worker is lent to, under names of their
/// own: another pool's command of the same name stays as it is.
class LentNames {
public:
    explicit LentNames(std::uint64_t lend) : m_suffix(fmt::format("#lent-{}", lend)) {}
    void add(protocol::CommandTaskSpec c) {
        auto name = c.name + m_suffix;
        m_names[c.name] = name;
        c.name = std::move(name);
        register_command_task(c);
    }
    /// The name the registry knows the pool's task by.
    std::string_view operator[](std::string_view name) const {
        auto found = m_names.find(name);
        return found == m_names.end() ? name : std::string_view(found->second);
    }
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (const auto& [name, renamed] : m_names) out.push_back(name);
        return out;
    }

private:
    std::string m_suffix;
    std::map<std::string, std::string, std::less<>> m_names;
};

/// Says ready, then runs what the channel brings until the pool closes it.
void serve_frames(WorkerState& w, LentNames* lent = nullptr) {
    protocol::encode_ready(w.out);
    send(w);
    std::string payload;
    protocol::FrameType type{};
    while (read_frame(w.from_parent, payload, type)) {
        if (type == protocol::FrameType::file) {
            w.files.receive(protocol::decode_file_part(payload));
            continue;
        }
        if (type == protocol::FrameType::task) {
            if (lent) lent->add(protocol::decode_task(payload));
            else register_command_task(protocol::decode_task(payload));
            continue;
        }
        if (type != protocol::FrameType::run) throw protocol::ProtocolError("unexpected frame");
        auto run = protocol::decode_run(payload);
        if (lent) run.task = (*lent)[run.task];
        run_chunk(w, run);
    }
}

}  // namespace

std::string serve_lent(std::string_view lend) {
    // ADDRESS NUL DIRECTORY: where the pool listens, and where its tasks run.
    auto nul = lend.find('\0');
    if (nul == std::string_view::npos) throw std::invalid_argument("a lend is ADDRESS NUL DIRECTORY");
    auto channel = os::connect_unix(std::string(lend.substr(0, nul)));
    // The pool's end: a pipe, as a started worker's is.
    auto up = os::receive_fd(channel.get());
    if (!up) return "the pool went away before it took the worker";
    std::string payload;
    protocol::FrameType type{};
    if (!read_frame(channel.get(), payload, type)) return "the pool went away before it configured the worker";
    if (type != protocol::FrameType::configure) throw protocol::ProtocolError("the first frame is not configure");
    auto msg = protocol::decode_configure(payload);
    static std::uint64_t lends = 0;
    LentNames names(++lends);
    os::DirectoryGuard back;
    std::string directory(lend.substr(nul + 1));
    std::string error;
    if (msg.version != protocol::k_protocol_version) {
        error = fmt::format("this worker speaks protocol version {}, the pool version {}", protocol::k_protocol_version,
                            msg.version);
    } else if (int failed = os::enter_directory(directory)) {
        error = fmt::format("cannot enter {}: {}", directory, std::strerror(failed));
    } else {
        auto commands = std::move(msg.commands);
        msg.commands.clear();
        error = apply_configuration(msg);
        try {
            for (auto& c : commands) names.add(std::move(c));
        } catch (const std::exception& e) {
            error = e.what();
        }
    }
    auto hello = hello_message(error);
    for (auto& name : names.names()) hello.tasks.push_back(std::move(name));
    std::string out;
    protocol::encode_hello(out, hello);
    os::write_all(up->get(), out);
    if (!error.empty()) return error;
    // The worker's initializer ran when it started: a lent worker is warm.
    // Its tasks get the environment of the pool it is lent to, whole.
    const WorkerConfig config = config_of(msg);
    auto env = config.environment;
    env.push_back(fmt::format("PPOOL_WORKER={}", config.slot));
    WorkerState w(config, channel.get(), up->get(), std::move(env));
    serve_frames(w, &names);
    return {};
}

void register_lend_task() {
    auto& registry = TaskRegistry::global();
    if (registry.find(k_lend_task)) return;
    registry.add(std::string(k_lend_task), "lends the worker to another pool", [](std::string_view lend) {
        auto error = serve_lent(lend);
        if (!error.empty()) throw std::runtime_error(error);
        return std::string();
    });
}

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
        WorkerState w(config, from_parent, to_parent, make_base_env(config));
        auto failure = run_initializer(w);
        if (!failure.empty()) {
            protocol::encode_init_failed(w.out, failure);
            send(w);
            os::exit_with_group(0);
        }
        serve_frames(w);
    } catch (const std::exception& e) {
        // The pool is gone (EPIPE) or the stream is corrupt: nothing to report to.
        status = 1;
    }
    os::exit_with_group(status);
}

}  // namespace ppool::worker
