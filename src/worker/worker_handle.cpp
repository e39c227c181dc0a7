#include "worker/worker_handle.hpp"

#include "os/process.hpp"
#include "protocol/messages.hpp"
#include "worker/command_template.hpp"

#include <algorithm>
#include <cerrno>
#include <fmt/format.h>
#include <stdexcept>
#include <csignal>
#include <system_error>

namespace ppool::worker {

namespace {

/// Extra time the parent allows a command task beyond the worker's own
/// timeout and grace before it kills the worker as well.
constexpr double k_backstop_s = 5.0;

}  // namespace

WorkerHandle WorkerHandle::start(int slot, Launcher& launcher, const protocol::ConfigureMessage& configure,
                                 const std::shared_ptr<OutputBudget>& budget) {
    auto launched = launcher.launch();
    WorkerHandle handle;
    handle.m_pid = launched.pid;
    handle.m_process = std::move(launched.process);
    if (launched.pid > 0) handle.m_pidfd = os::Fd(os::open_pidfd(launched.pid));
    handle.m_stdout = Spool(budget);
    handle.m_stderr = Spool(budget);
    handle.m_slot = slot;
    handle.m_to = std::move(launched.to);
    handle.m_from = std::move(launched.from);
    handle.m_err = std::move(launched.err);
    // The first frame: sent with the first chunk, or on its own when the loop next writes.
    auto& buffer = handle.m_out.owned.emplace_back();
    protocol::encode_configure(buffer, configure);
    handle.m_out.pieces.push_back(buffer);
    for (const auto& command : configure.commands) handle.m_known_commands.insert(command.name);
    os::set_nonblocking(handle.m_from.get(), true);
    return handle;
}

namespace {

/// A file travels in parts of this size, as large outputs do.
constexpr std::size_t k_file_part_bytes = 64 << 10;

}  // namespace

void WorkerHandle::dispatch(detail::Chunk chunk, std::optional<double> timeout, double grace,
                            const std::vector<std::string>& transfer) {
    // The item bytes are sent from the chunk itself, which the handle holds
    // until the last result: nothing is copied.
    bool queued = m_chunk.has_value();
    auto& held = queued ? m_queued.emplace(std::move(chunk)) : m_chunk.emplace(std::move(chunk));
    if (!wants_write()) {
        m_out = protocol::Gather{};
        m_piece = m_offset = 0;
    }
    m_timeout = timeout;
    m_grace = grace;
    if (queued) {
        // Behind the running chunk: never one with files to send (ProcessWorkerSet::idle).
        queue_run(held);
        return;
    }
    m_next = 0;
    m_chunk_start = os::Clock::now();
    if (!transfer.empty()) {
        // The files go first, the run frame after them (see refill).
        for (std::size_t i = 0; i < m_chunk->size(); ++i) {
            TaskContext context{m_chunk->item(i), m_chunk->items[i].seq, m_slot};
            for (const auto& name : transfer) m_files.emplace_back(context.seq, expand_template(name, context));
        }
        m_run_pending = true;
    } else {
        queue_run(*m_chunk);
    }
    // The first item's clock starts once its files are sent: their way there is not its time.
    if (m_run_pending) m_deadline.reset();
    else arm_deadline();
    // Sent by flush(), which the worker set calls once it has handed out all it will now.
}

void WorkerHandle::queue_run(const detail::Chunk& chunk) {
    protocol::RunIndex index;
    const auto& items = chunk.items;
    index.add_all(items.size(), [&](std::size_t i) {
        return std::pair<std::uint64_t, std::uint64_t>(items[i].seq, items[i].end - detail::item_start(items, i));
    });
    const auto& task = *chunk.task;
    // A command added to the registry after the worker started (a server's pool) is told first.
    if (task.command_line && !m_known_commands.contains(task.name)) {
        const auto& line = *task.command_line;
        auto& buffer = m_out.owned.emplace_back();
        protocol::encode_task(buffer, protocol::CommandTaskSpec{task.name, line.words, line.append_item,
                                                                line.item_on_stdin, line.item_is_args,
                                                                line.context_replace, line.replace, line.stdin_file,
                                                                line.in_shell, line.shell});
        m_out.pieces.push_back(buffer);
        m_known_commands.insert(task.name);
    }
    std::optional<std::uint64_t> timeout_ns;
    if (chunk.timed_by_pool)
        timeout_ns = chunk.timeout ? static_cast<std::uint64_t>(std::min(*chunk.timeout, 1e10) * 1e9) : 0;
    protocol::encode_run(m_out, task.name, index, *chunk.bytes, timeout_ns);
}

bool WorkerHandle::refill() {
    if (!m_run_pending) return false;
    m_out = protocol::Gather{};
    m_piece = m_offset = 0;
    if (m_files.empty()) {
        m_run_pending = false;
        queue_run(*m_chunk);
        arm_deadline();
        return true;
    }
    const auto& [seq, path] = m_files.front();
    auto& buffer = m_out.owned.emplace_back();
    bool done = false;
    try {
        if (path.find('\0') != std::string::npos) throw std::runtime_error("the name holds a NUL byte");
        bool first = !m_file;
        if (first) m_file.emplace(path);
        std::string data;
        done = m_file->read(data, k_file_part_bytes);
        protocol::encode_file_part(buffer, protocol::FilePart{seq, first, done, false, m_file->mode(), path, data});
    } catch (const std::exception& e) {
        // The item fails with this, on the worker: the others run.
        buffer.clear();
        auto why = fmt::format("cannot transfer {}: {}", path.empty() ? "''" : path, os::failure_reason(e));
        protocol::encode_file_part(buffer,
                                   protocol::FilePart{seq, true, true, true, 0, path.empty() ? "." : path, why});
        done = true;
    }
    if (done) {
        m_file.reset();
        m_files.pop_front();
    }
    m_out.pieces.push_back(buffer);
    return true;
}

void WorkerHandle::arm_deadline(std::uint64_t running_ns) {
    m_deadline.reset();
    if (!m_timeout || !m_chunk || m_next >= m_chunk->size()) return;
    double limit = *m_timeout;
    // A command's worker enforces the limit itself; the parent is the backstop.
    if (m_chunk->task->is_command()) limit += m_grace + k_backstop_s;
    // What has run already counts (never more than the limit, however the worker's clock went).
    limit -= std::min(limit, static_cast<double>(running_ns) / 1e9);
    m_deadline = os::Clock::now() + os::seconds(limit);
}

bool WorkerHandle::flush() {
    while (wants_write()) {
        auto status = os::send_pieces(m_to.get(), m_out.pieces, m_piece, m_offset);
        if (status == os::IoStatus::closed) return false;
        // What follows is read from disk only once the channel has taken what came before.
        if (status == os::IoStatus::would_block || !refill()) return true;
    }
    return true;
}

bool WorkerHandle::fill() {
    // Bounded per wake so that one chatty worker cannot starve the others, and
    // so that what is read ahead of the frames stays small.
    constexpr std::size_t k_read = 1 << 16;
    for (int i = 0; i < 2; ++i) {
        std::size_t before = m_reader.buffer().size();
        auto status = os::read_some(m_from.get(), m_reader.buffer(), k_read);
        if (status == os::IoStatus::closed) return false;
        if (status == os::IoStatus::would_block) return true;
        // Less than asked for: the pipe was empty, and a second read would only say so.
        if (m_reader.buffer().size() - before < k_read) return true;
    }
    return true;
}

void WorkerHandle::relay_stderr(bool to_the_end) {
    std::string data;
    while (m_err && os::read_some(m_err.get(), data, 1 << 16) == os::IoStatus::done) {
    }
    m_err_relay.feed(data, to_the_end);
}

std::string WorkerHandle::last_stderr_line() const {
    auto line = m_err_relay.last_line();
    if (line.empty() && m_process) return m_process->last_words();
    return line;
}

bool WorkerHandle::fill_all() {
    for (;;) {
        auto status = os::read_some(m_from.get(), m_reader.buffer(), 1 << 16);
        if (status == os::IoStatus::closed) return false;
        if (status == os::IoStatus::would_block) return true;
    }
}

bool WorkerHandle::discard_input() {
    m_reader.discard();
    try {
        return os::discard_available(m_from.get()) == os::IoStatus::would_block;
    } catch (const std::system_error&) {
        return false;
    }
}

void WorkerHandle::finish_items(std::size_t count, std::uint64_t running_ns) {
    m_next += count;
    m_tasks_done += count;
    m_stdout.reset();
    m_stderr.reset();
    m_returning.abort();
    if (m_next >= m_chunk->size()) {
        auto now = os::Clock::now();
        m_last_chunk_time = now - m_chunk_start;
        // The queued chunk runs now: the worker started it when it sent these results.
        m_chunk = std::move(m_queued);
        m_queued.reset();
        m_next = 0;
        m_chunk_start = now;
        arm_deadline();
    } else {
        arm_deadline(running_ns);
    }
}

std::uint64_t WorkerHandle::running_seq() const {
    return m_chunk && m_next < m_chunk->size() ? m_chunk->items[m_next].seq : 0;
}

detail::ItemBlock WorkerHandle::take_rest() {
    if (!m_chunk) return {};
    auto rest = m_chunk->rest(m_next + 1);
    m_chunk->items.resize(std::min(m_chunk->items.size(), m_next + 1));
    return rest;
}

std::optional<detail::Chunk> WorkerHandle::take_queued() {
    auto queued = std::move(m_queued);
    m_queued.reset();
    return queued;
}

void WorkerHandle::retire() {
    m_retiring = true;
    m_to.reset();
}

os::ExitStatus WorkerHandle::kill_and_reap() {
    if (m_process) m_process->kill();
    else os::signal_process(m_pid, SIGKILL);
    return reap();
}

os::ExitStatus WorkerHandle::reap() {
    // What a registered task left running in the worker's group goes with it
    // (a hub does the same for its workers).
    auto status = m_process ? m_process->wait() : os::reap_with_group(m_pid);
    m_process.reset();
    // The last words of a launcher's process are in its pipe now: pass them
    // on if memory allows. Reaping also stops a pool from its destructor,
    // where nothing may throw.
    try {
        relay_stderr(true);
    } catch (const std::exception&) {
    }
    m_pid = -1;
    m_pidfd.reset();
    m_to.reset();
    m_from.reset();
    m_err.reset();
    return status;
}

}  // namespace ppool::worker
