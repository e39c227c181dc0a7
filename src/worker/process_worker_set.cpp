#include "worker/process_worker_set.hpp"

#include "os/limits.hpp"
#include "os/process.hpp"
#include "os/signals.hpp"
#include "ppool/plugins.hpp"
#include "protocol/messages.hpp"
#include "protocol/session.hpp"
#include "pool/run_data.hpp"
#include "worker/command_template.hpp"

#include <algorithm>
#include <csignal>
#include <fmt/format.h>
#include <system_error>

namespace ppool::worker {

namespace {

std::string timeout_text(double seconds) { return fmt::format("timed out after {:g}s", seconds); }

/// What the pool's outputs may hold in memory: under `ulimit -v` or `-d`, a
/// small part of what the process may map.
std::size_t output_budget_bytes() {
    std::uint64_t bytes = OutputBudget::k_default_bytes;
    if (auto limit = os::memory_limit()) bytes = std::min<std::uint64_t>(bytes, *limit / 8);
    return static_cast<std::size_t>(bytes);
}


/// Descriptors ppool holds for any worker: its two channels, its pidfd, and
/// one for an output spilled to disk (the launcher may add more).
constexpr std::uint64_t k_fds_per_worker = 4;
/// Descriptors left for everything else: inputs, the joblog, spilled results.
constexpr std::uint64_t k_spare_fds = 32;
/// Processes a worker running a command is: its keeper, itself, the command.
constexpr std::uint64_t k_processes_per_worker = 3;

/// Lowers `c` to `workers` for `limit` if that is lower.
void lower(ProcessWorkerSet::Capacity& c, std::uint64_t workers, std::string limit) {
    if (workers < c.workers) c = {static_cast<std::size_t>(workers), std::move(limit)};
}

}  // namespace

ProcessWorkerSet::Capacity ProcessWorkerSet::capacity(std::size_t wanted, const Launcher& launcher) {
    Capacity c{wanted, {}};
    auto per_worker = k_fds_per_worker + launcher.extra_descriptors();
    // Counting what is in use reads /proc: only when the limit is anywhere near.
    auto files = os::open_file_limit();
    if (wanted * per_worker + 2 * k_spare_fds > files / 2) {
        auto used = os::open_file_count() + k_spare_fds;
        lower(c, files > used ? (files - used) / per_worker : 0,
              fmt::format("the open file limit (ulimit -n {})", files));
    }
    if (auto limit = os::process_limit(); limit && wanted * k_processes_per_worker > *limit / 4) {
        auto used = os::user_process_count();
        lower(c, *limit > used ? (*limit - used) / k_processes_per_worker : 0,
              fmt::format("the process limit (ulimit -u {})", *limit));
    }
    if (auto left = os::cgroup_processes_left())
        lower(c, *left / k_processes_per_worker, "the cgroup's process limit (pids.max)");
    if (c.workers == 0) {
        // Not even one fits: starting it will fail and say why.
        c = {1, {}};
    }
    return c;
}

ProcessWorkerSet::ProcessWorkerSet(const PoolOptions& options, std::vector<HostSlots> hosts)
    : m_options(options), m_budget(std::make_shared<OutputBudget>(output_budget_bytes())) {
    // Workers start when work first reaches their slot: one item forks one worker.
    for (auto& host : hosts) {
        for (std::size_t i = 0; i < host.slots; ++i) {
            m_host_of.push_back(m_hosts.size());
            m_workers.push_back(WorkerHandle::unstarted(static_cast<int>(m_workers.size())));
        }
        std::shared_ptr<const std::string> name;
        if (host.launcher->host() != ":") name = std::make_shared<const std::string>(host.launcher->host());
        m_hosts.push_back(Host{std::move(host.launcher), std::move(name), host.slots_from_hello, false, host.remote});
    }
    m_usable = m_workers.size();
    // Room for every worker's descriptors, so that terminate() need not allocate.
    m_poll.reserve(4 * m_workers.size() + 8);
}

ProcessWorkerSet::~ProcessWorkerSet() { terminate(); }

bool ProcessWorkerSet::idle(std::size_t slot) const {
    const auto& w = m_workers[slot];
    if (m_stopping || slot >= m_usable || m_hosts[m_host_of[slot]].dead) return false;
    // A slot with no worker yet takes one only if its launcher has one to give.
    if (!w.alive()) return launcher_of(w).can_launch();
    if (free(w)) return true;
    // A second chunk waits at a busy worker, so that it never idles between
    // quick chunks: a worker behind a launcher's command (ssh, srun) is a
    // round trip away, and even here the worker would wait for the pool to
    // take its result and send the next item. Never while a slot is free, nor
    // behind chunks that take long (the round trip is nothing to them): there
    // it would wait behind a long task while another worker could run it.
    // Here, not under a halt rule either: the queued chunk would start before
    // the pool has seen the result that halts the job.
    // Files sent ahead of a chunk go only to a worker that waits for them.
    auto quick = w.last_chunk_time();
    bool files = m_options.transfer.size() + m_options.returns.size() > 0;
    bool halts = m_options.fail_fast || m_options.halt.when != HaltRule::When::never;
    return (launcher_of(w).runs_a_command() || !halts) && w.ready() && !w.has_queued() && !w.retiring() &&
           !files && (m_options.maxtasksperchild == 0 || budget(slot) > 0) && quick && *quick < k_quick_chunk &&
           !any_free_slot();
}

bool ProcessWorkerSet::any_free_slot() const {
    for (std::size_t slot = 0; slot < m_usable; ++slot) {
        const auto& w = m_workers[slot];
        // A slot with no worker, whose launcher has none to give now, is not free.
        if (!m_hosts[m_host_of[slot]].dead && free(w) && (w.alive() || launcher_of(w).can_launch())) return true;
    }
    return false;
}

std::uint64_t ProcessWorkerSet::budget(std::size_t slot) const {
    if (m_options.maxtasksperchild == 0) return 0;
    // What it holds already counts.
    const auto& w = m_workers[slot];
    std::uint64_t left = m_options.maxtasksperchild - w.tasks_done();
    return left - std::min<std::uint64_t>(left, w.in_flight());
}

void ProcessWorkerSet::dispatch(std::size_t slot, detail::Chunk chunk) {
    if (!m_workers[slot].alive() && !start(slot)) {
        m_returned.push_back(std::move(chunk));
        return;
    }
    static const std::vector<std::string> k_nothing;
    auto timeout = chunk.timed_by_pool ? chunk.timeout : m_options.task_timeout;
    m_workers[slot].dispatch(std::move(chunk), timeout, m_options.kill_grace_s,
                             remote(slot) ? m_options.transfer : k_nothing);
}

void ProcessWorkerSet::send_dispatched() {
    // A channel that is closed now is found by the next wait, as a worker that ended.
    for (auto& w : m_workers)
        if (w.wants_write()) w.flush();
}

protocol::ConfigureMessage ProcessWorkerSet::configure(std::size_t slot) const {
    protocol::ConfigureMessage msg;
    msg.slot = static_cast<std::int32_t>(slot);
    msg.plugins = loaded_plugins();
    for (const TaskInfo* task : TaskRegistry::global().list())
        if (const auto& line = task->command_line)
            msg.commands.push_back(
                protocol::CommandTaskSpec{task->name, line->words, line->append_item, line->item_on_stdin,
                                          line->item_is_args, line->context_replace, line->replace,
                                          line->stdin_file, line->in_shell, line->shell});
    msg.initializer = m_options.initializer;
    msg.initargs = m_options.initargs;
    msg.initializer_command = m_options.initializer_command;
    msg.shell = m_options.shell;
    msg.environment = m_options.environment;
    auto nanoseconds = [](double s) { return static_cast<std::uint64_t>(std::min(s, 1e10) * 1e9); };
    if (m_options.task_timeout) msg.task_timeout_ns = nanoseconds(*m_options.task_timeout);
    msg.kill_grace_ns = nanoseconds(m_options.kill_grace_s);
    msg.live_output = static_cast<bool>(m_options.on_output);
    // This machine's slots have the files already, as GNU parallel's ":" has.
    if (remote(slot)) {
        msg.returns = m_options.returns;
        msg.cleanup = m_options.cleanup;
    }
    return msg;
}

bool ProcessWorkerSet::start(std::size_t slot) {
    try {
        m_workers[slot] = WorkerHandle::start(static_cast<int>(slot), *m_hosts[m_host_of[slot]].launcher,
                                              configure(slot), m_budget);
        return true;
    } catch (const StartError& e) {
        auto running = static_cast<std::size_t>(
            std::count_if(m_workers.begin(), m_workers.end(), [](const WorkerHandle& w) { return w.alive(); }));
        if (running == 0 || !e.limit_reached()) throw;
        // Run on with the workers there are (said once); the limit may be
        // anyone's, not ours to wait out.
        if (m_options.on_warning && m_usable == m_workers.size())
            m_options.on_warning(fmt::format("cannot start more than {} workers ({}); running with {}", running,
                                             e.reason(), running));
        m_usable = std::min(m_usable, slot);
        return false;
    }
}

bool ProcessWorkerSet::busy() const {
    for (const auto& w : m_workers)
        if (w.alive() && (w.has_chunk() || w.retiring())) return true;
    return false;
}

std::size_t ProcessWorkerSet::running() const {
    std::size_t n = 0;
    for (const auto& w : m_workers)
        if (w.alive() && w.has_chunk()) ++n;
    return n;
}

os::Wake ProcessWorkerSet::wait(std::vector<detail::InputWatch>& inputs, std::optional<os::TimePoint> until,
                                detail::WorkerEvents& out) {
    if (!m_returned.empty()) {
        // Chunks no worker could be started for go back before anything waits.
        for (auto& chunk : m_returned) out.requeue.push_back(detail::RequeueEvent{chunk.job, chunk.rest(0)});
        m_returned.clear();
        return os::Wake::ready;
    }
    // Reused between waits: this runs once per batch of results.
    auto& set = m_poll;
    set.clear();
    m_read_index.assign(m_workers.size(), k_none);
    m_write_index.assign(m_workers.size(), k_none);
    m_exit_index.assign(m_workers.size(), k_none);
    m_err_index.assign(m_workers.size(), k_none);
    for (std::size_t i = 0; i < m_workers.size(); ++i) {
        auto& w = m_workers[i];
        if (!w.alive()) continue;
        m_read_index[i] = set.add(w.read_fd(), POLLIN);
        if (w.wants_write()) m_write_index[i] = set.add(w.write_fd(), POLLOUT);
        if (w.exit_fd() >= 0) m_exit_index[i] = set.add(w.exit_fd(), POLLIN);
        if (w.stderr_fd() >= 0) m_err_index[i] = set.add(w.stderr_fd(), POLLIN);
        if (auto d = w.deadline(); d && (!until || *d < *until)) until = d;
    }
    // Launchers that have workers to give at times say when they have.
    std::size_t first_launcher = set.size();
    for (const auto& host : m_hosts)
        if (int fd = host.launcher->ready_fd(); fd >= 0 && !host.dead) set.add(fd, POLLIN);
    std::size_t first_input = set.size();
    for (auto& input : inputs) set.add(input.fd, input.events);

    auto wake = os::wait(set, until);
    for (std::size_t i = 0; i < inputs.size(); ++i) inputs[i].readable = set.revents(first_input + i) != 0;
    for (std::size_t i = first_launcher, h = 0; h < m_hosts.size(); ++h)
        if (m_hosts[h].launcher->ready_fd() >= 0 && !m_hosts[h].dead && set.revents(i++)) m_hosts[h].launcher->on_ready();
    for (std::size_t i = 0; i < m_workers.size(); ++i) {
        auto& w = m_workers[i];
        if (m_write_index[i] != k_none && set.revents(m_write_index[i])) w.flush();
        if (m_err_index[i] != k_none && set.revents(m_err_index[i])) w.relay_stderr();
        // A worker that has ended may have left a process holding its pipe
        // open: what it wrote is in the pipe, and no end of file will come.
        bool ended = m_exit_index[i] != k_none && set.revents(m_exit_index[i]);
        if (ended || (m_read_index[i] != k_none && set.revents(m_read_index[i]))) {
            if (ended) w.fill_all();
            bool open = !ended && w.fill();
            try {
                on_frames(w, out);
            } catch (const protocol::ProtocolError& e) {
                // A task scribbled on the worker's pipe: the worker cannot be trusted any more.
                on_corrupt(w, e.what(), out);
                continue;
            }
            if (!open) on_exit(w, out);
        }
    }
    auto now = os::Clock::now();
    for (auto& w : m_workers)
        if (w.alive() && w.deadline() && now >= *w.deadline()) on_deadline(w, out);
    grow();
    return wake;
}

void ProcessWorkerSet::on_frames(WorkerHandle& w, detail::WorkerEvents& out) {
    while (auto frame = w.reader().next()) {
        switch (frame->type) {
        case protocol::FrameType::ready: w.set_ready(); break;
        case protocol::FrameType::results: on_results(w, frame->payload, out); break;
        case protocol::FrameType::output_part: {
            auto part = protocol::decode_output_part(frame->payload);
            if (part.seq != w.running_seq()) throw protocol::ProtocolError("output part for an item not running");
            if (part.stream == protocol::Stream::err) {
                w.stderr_spool().append(part.data);
            } else {
                // What is not taken is held; once some is held, the item's later parts are held too.
                std::size_t taken = 0;
                if (m_options.on_output_part && w.stdout_spool().empty())
                    taken = std::min(m_options.on_output_part(part.seq, part.data), part.data.size());
                if (taken < part.data.size()) w.stdout_spool().append(part.data.substr(taken));
            }
            break;
        }
        case protocol::FrameType::live_output: {
            auto part = protocol::decode_live_output(frame->payload);
            if (part.seq != w.running_seq()) throw protocol::ProtocolError("output for an item not running");
            if (m_options.on_output)
                m_options.on_output(OutputPiece{part.seq, w.chunk()->item(w.next_index()), w.slot(),
                                                part.stream == protocol::Stream::out ? 1 : 2, part.data});
            break;
        }
        case protocol::FrameType::init_failed:
            out.fatal = fmt::format("initializer failed in worker {}: {}", w.slot(),
                                    protocol::decode_init_failed(frame->payload));
            break;
        case protocol::FrameType::hello: on_hello(w, protocol::decode_hello(frame->payload), out); break;
        case protocol::FrameType::file: on_file(w, protocol::decode_file_part(frame->payload)); break;
        case protocol::FrameType::run:
        case protocol::FrameType::task:
        case protocol::FrameType::configure: throw protocol::ProtocolError("worker sent a frame for workers");
        }
    }
}

void ProcessWorkerSet::on_results(WorkerHandle& w, std::string_view payload, detail::WorkerEvents& out) {
    auto msg = protocol::decode_results(payload);
    if (!w.has_chunk()) throw protocol::ProtocolError("results from a worker with no chunk");
    if (msg.count > w.unreported()) throw protocol::ProtocolError("results for items not handed out");
    const auto& chunk = *w.chunk();
    auto count = static_cast<std::size_t>(msg.count);
    auto data = std::make_shared<detail::RunData>();
    data->inputs = chunk.bytes;
    data->worker = w.slot();
    data->host = m_hosts[m_host_of[w.slot()]].name;
    data->is_command = chunk.task->is_command();
    data->text.assign(msg.text);
    data->extra.assign(msg.extra);
    data->entries.reserve(count);
    data->first_input = detail::item_start(chunk.items, w.next_index());
    // Only well-formed results take their items off the chunk: corrupt ones leave them to be reported lost.
    protocol::EntryReader reader(msg);
    protocol::EntryMeta meta;
    bool all_plain = true;
    bool consecutive = true;
    for (std::size_t i = 0; i < count; ++i) {
        const auto& item = chunk.items[w.next_index() + i];
        auto& e = data->entries.emplace_back();
        e.seq = item.seq;
        e.input_end = item.end;
        consecutive = consecutive && (i == 0 || item.seq == data->entries[i - 1].seq + 1);
        std::uint64_t output_size = 0;
        std::size_t output_at = 0, extra_at = 0;
        if (reader.next_plain(output_size, e.added_newline, e.duration_ns, output_at)) {
            e.status = Status::ok;
            e.output_end = output_at + static_cast<std::size_t>(output_size);
            continue;
        }
        reader.next(meta, output_at, extra_at);
        e.status = meta.status;
        e.duration_ns = meta.duration_ns;
        e.output_end = output_at + static_cast<std::size_t>(meta.output_size);
        e.added_newline = meta.added_newline;
        all_plain = all_plain && meta.status == Status::ok && meta.stderr_size == 0;
        if (meta.exit_code || meta.signal || meta.stderr_size || meta.error_size || meta.error_type_size) {
            auto& m = data->more_of(i);
            m.exit_code = meta.exit_code;
            m.signal = meta.signal;
            m.stderr_at = extra_at;
            m.stderr_size = static_cast<std::size_t>(meta.stderr_size);
            m.error_at = extra_at + m.stderr_size;
            m.error_size = static_cast<std::size_t>(meta.error_size);
            m.error_type_size = static_cast<std::size_t>(meta.error_type_size);
        }
    }
    reader.finish();
    std::uint64_t job = chunk.job;
    if (!w.stdout_spool().empty() || !w.stderr_spool().empty()) {
        store_apart(w, *data);
        all_plain = false;
    }
    data->all_plain = all_plain;
    data->consecutive = consecutive;
    w.finish_items(count, msg.running_ns);
    out.runs.push_back(detail::RunEvent{job, ResultRun(std::move(data), 0, count)});
    if (!w.has_chunk() && m_options.maxtasksperchild && w.tasks_done() >= m_options.maxtasksperchild) w.retire();
}

void ProcessWorkerSet::store_apart(WorkerHandle& w, detail::RunData& data) {
    // The parts that came ahead belong to the first item; its result carries the last of them.
    auto& e = data.entries[0];
    auto& m = data.more_of(0);
    std::string error;
    bool stored = true;
    if (!w.stdout_spool().empty()) {
        auto tail = std::string_view(data.text).substr(0, e.output_end - (e.added_newline ? 1 : 0));
        stored = w.stdout_spool().finish(tail, m.large_output, error);
        // Its bytes are in the stored output now: the text starts after them.
        data.first_output = e.output_end;
        e.added_newline = false;
    }
    if (!w.stderr_spool().empty()) {
        auto tail = std::string_view(data.extra).substr(m.stderr_at, m.stderr_size);
        stored = w.stderr_spool().finish(tail, m.large_stderr, error) && stored;
        m.stderr_size = 0;
    }
    if (!stored) {
        // Part of the output is lost: fail the item rather than pass on a truncated result.
        e.status = Status::error;
        data.set_error(0, error);
        m.large_output.reset();
        m.large_stderr.reset();
    }
}

void ProcessWorkerSet::on_file(WorkerHandle& w, const protocol::FilePart& part) {
    if (part.seq == 0 || part.seq != w.running_seq()) throw protocol::ProtocolError("file for an item not running");
    // Only the files asked for, at the paths asked for: a host writes nothing else here.
    const auto& chunk = *w.chunk();
    TaskContext context{chunk.item(w.next_index()), part.seq, w.slot()};
    bool asked = remote(static_cast<std::size_t>(w.slot())) &&
                 std::any_of(m_options.returns.begin(), m_options.returns.end(),
                             [&](const std::string& name) { return expand_template(name, context) == part.path; });
    if (!asked) throw protocol::ProtocolError("a file that was not asked for");
    auto& file = w.returning();
    auto warn = [&](const std::string& reason) {
        if (m_options.on_warning)
            m_options.on_warning(fmt::format("{}: cannot return {}: {}", launcher_of(w).name(), part.path, reason));
    };
    if (part.failed) {
        file.abort();
        warn(std::string(part.data));
        return;
    }
    if (part.first) {
        w.returning_failed() = false;
    } else if (w.returning_failed()) {
        return;
    } else if (!file.receiving() || file.path() != part.path) {
        throw protocol::ProtocolError("file part out of order");
    }
    try {
        // Its permission bits, but never set-user-ID or set-group-ID here.
        if (part.first) file.begin(std::string(part.path), part.mode & 0777);
        file.append(part.data);
        if (part.last) file.commit();
    } catch (const std::system_error& e) {
        file.abort();
        w.returning_failed() = true;
        warn(os::failure_reason(e));
    }
}

void ProcessWorkerSet::on_hello(WorkerHandle& w, protocol::HelloMessage hello, detail::WorkerEvents& out) {
    const auto& name = launcher_of(w).name();
    std::string wrong;
    if (hello.version != protocol::k_protocol_version)
        wrong = fmt::format("the worker started by {} speaks protocol version {}, this ppool version {}", name,
                            hello.version, protocol::k_protocol_version);
    else if (!hello.error.empty())
        wrong = fmt::format("the worker started by {} cannot run: {}", name, hello.error);
    else if (w.has_chunk() && !std::count(hello.tasks.begin(), hello.tasks.end(), w.chunk()->task->name))
        wrong = fmt::format("the worker started by {} has no task '{}'", name, w.chunk()->task->name);
    if (!wrong.empty()) {
        if (!drop_host(w, wrong, out) && out.fatal.empty()) out.fatal = wrong;
        return;
    }
    auto& host = m_hosts[m_host_of[w.slot()]];
    if (host.grow) {
        // As many slots as the host has CPUs: the first worker is one of them.
        host.grow = false;
        if (hello.cpus > 1) m_growth.emplace_back(m_host_of[w.slot()], hello.cpus - 1);
    }
    w.set_hello(std::move(hello));
}

bool ProcessWorkerSet::drop_host(WorkerHandle& w, const std::string& why, detail::WorkerEvents& out) {
    auto& host = m_hosts[m_host_of[w.slot()]];
    bool others = std::any_of(m_hosts.begin(), m_hosts.end(), [&](const Host& h) { return &h != &host && !h.dead; });
    if (!others) return false;
    if (!host.dead && m_options.on_warning) m_options.on_warning(why + "; going on without it");
    host.dead = true;
    // The items never ran there: they go back whole, for the other hosts.
    if (w.has_chunk()) out.requeue.push_back(detail::RequeueEvent{w.chunk()->job, w.chunk()->rest(w.next_index())});
    requeue_queued(w, out);
    if (w.alive()) w.kill_and_reap();
    replace(w);
    return true;
}

void ProcessWorkerSet::grow() {
    for (auto [host, count] : m_growth) {
        bool all_usable = m_usable == m_workers.size();
        for (std::size_t i = 0; i < count; ++i) {
            m_host_of.push_back(host);
            m_workers.push_back(WorkerHandle::unstarted(static_cast<int>(m_workers.size())));
        }
        if (all_usable) m_usable = m_workers.size();
        m_poll.reserve(4 * m_workers.size() + 8);
    }
    m_growth.clear();
}

void ProcessWorkerSet::on_exit(WorkerHandle& w, detail::WorkerEvents& out) {
    if (w.retiring() && !w.has_chunk()) {
        w.reap();
        replace(w);
        return;
    }
    bool was_ready = w.ready();
    bool said_hello = w.hello().has_value();
    w.relay_stderr();
    auto last_words = w.last_stderr_line();
    auto status = w.kill_and_reap();
    TaskResult r;
    r.status = Status::worker_lost;
    if (status.signal) r.signal = status.signal;
    else r.exit_code = status.code;
    r.error = r.describe_failure();
    const auto& launcher = launcher_of(w);
    if (launcher.runs_a_command())
        r.error += fmt::format(" ({}{}{})", launcher.name(), last_words.empty() ? "" : ": ", last_words);
    if (out.fatal.empty() && !said_hello) {
        // A worker that never said hello cannot be started this way: never respawn.
        auto why = fmt::format("cannot start a worker with {}: it ended ({}) before a worker answered{}{}",
                               launcher.name(),
                               status.signal ? "killed by " + os::signal_name(status.signal)
                                             : fmt::format("exit status {}", status.code),
                               last_words.empty() ? "" : ": ", last_words);
        if (drop_host(w, why, out)) return;
        out.fatal = why;
    } else if (auto why = launcher.lost(); out.fatal.empty() && !why.empty()) {
        // No worker can take its items any more.
        out.fatal = why;
    } else if (out.fatal.empty() && !was_ready) {
        // Dying before it was ready means the initializer killed it: never respawn.
        out.fatal = fmt::format("initializer failed in worker {}: {}", w.slot(), r.error);
    }
    lose(w, std::move(r), out);
}

void ProcessWorkerSet::on_corrupt(WorkerHandle& w, const std::string& why, detail::WorkerEvents& out) {
    bool said_hello = w.hello().has_value();
    w.kill_and_reap();
    if (!said_hello && out.fatal.empty()) {
        // What answers a launcher is no worker of ours: never respawn.
        auto message = fmt::format("cannot start a worker with {}: what it started does not speak ppool's protocol ({})",
                                   launcher_of(w).name(), why);
        if (drop_host(w, message, out)) return;
        out.fatal = message;
    }
    TaskResult r;
    r.status = Status::worker_lost;
    r.error = "worker sent a corrupt message (" + why + ")";
    lose(w, std::move(r), out);
}

void ProcessWorkerSet::on_deadline(WorkerHandle& w, detail::WorkerEvents& out) {
    w.kill_and_reap();
    TaskResult r;
    r.status = Status::timeout;
    r.error = timeout_text(w.timeout().value_or(0));
    r.duration_s = w.timeout().value_or(0);
    lose(w, std::move(r), out);
}

void ProcessWorkerSet::lose(WorkerHandle& w, TaskResult result, detail::WorkerEvents& out) {
    if (w.has_chunk()) {
        const auto& chunk = *w.chunk();
        auto rest = w.take_rest();
        if (!rest.items.empty()) out.requeue.push_back(detail::RequeueEvent{chunk.job, std::move(rest)});
        requeue_queued(w, out);
        auto index = w.next_index();
        result.seq = chunk.items[index].seq;
        result.input.assign(chunk.item(index));
        result.is_command = chunk.task->is_command();
        result.worker = w.slot();
        if (const auto& host = m_hosts[m_host_of[w.slot()]].name) result.host = *host;
        std::uint64_t job = chunk.job;
        // Lost with a host while others run: the item may run again on one of them.
        bool rerun = result.status == Status::worker_lost && live_hosts() > 1;
        w.finish_items(1);
        ResultRun run(result);
        if (rerun) run.data()->more_of(0).rerun = true;
        out.runs.push_back(detail::RunEvent{job, std::move(run)});
    }
    if (out.fatal.empty()) replace(w);
}

void ProcessWorkerSet::requeue_queued(WorkerHandle& w, detail::WorkerEvents& out) {
    // It never started: every item goes back.
    if (auto queued = w.take_queued()) out.requeue.push_back(detail::RequeueEvent{queued->job, queued->rest(0)});
}

void ProcessWorkerSet::replace(WorkerHandle& w) {
    // The fresh worker is forked when work next reaches this slot.
    w = WorkerHandle::unstarted(w.slot());
}

void ProcessWorkerSet::terminate() {
    if (m_stopping) return;
    m_stopping = true;
    try {
        stop_gracefully();
    } catch (...) {
        // Called from destructors, maybe out of memory: whatever failed, no worker outlives the pool.
    }
    for (auto& w : m_workers)
        if (w.alive()) w.kill_and_reap();
}

void ProcessWorkerSet::stop_gracefully() {
    // A closed channel is a worker's order to stop: it stops its command
    // (SIGTERM, then SIGKILL after the grace period) and exits, wherever it
    // runs. A worker that is this process's own child also gets SIGTERM, which
    // reaches a registered task busy in it; a launcher's command may be a
    // wrapper that must not die before the worker behind it has stopped.
    for (auto& w : m_workers) {
        if (!w.alive()) continue;
        w.retire();
        if (!launcher_of(w).runs_a_command()) os::signal_process(w.pid(), SIGTERM);
    }
    // Nothing here allocates once the poll set has its room.
    auto deadline = os::Clock::now() + os::seconds(m_options.kill_grace_s + 0.5);
    auto& set = m_poll;
    for (;;) {
        set.clear();
        for (auto& w : m_workers) {
            if (!w.alive()) continue;
            set.add(w.read_fd(), POLLIN);
            if (!launcher_of(w).runs_a_command() && w.exit_fd() >= 0) set.add(w.exit_fd(), POLLIN);
        }
        if (set.size() == 0) break;
        auto wake = os::wait(set, deadline);
        if (wake == os::Wake::signal) os::take_caught_signal();
        if (wake != os::Wake::ready) break;
        for (auto& w : m_workers)
            if (w.alive() && (!w.discard_input() || (!launcher_of(w).runs_a_command() && os::has_ended(w.pid()))))
                w.kill_and_reap();
    }
}

void ProcessWorkerSet::shutdown() {
    m_stopping = true;
    for (auto& w : m_workers)
        if (w.alive()) w.retire();
    for (auto& w : m_workers)
        if (w.alive()) w.reap();
}

}  // namespace ppool::worker
