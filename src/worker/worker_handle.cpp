#include "worker/worker_handle.hpp"

#include "os/process.hpp"
#include "protocol/messages.hpp"
#include "protocol/packed.hpp"
#include "worker/worker_main.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <system_error>
#include <unistd.h>

namespace ppool::worker {

namespace {

/// Extra time the parent allows a command task beyond the worker's own
/// timeout and grace before it kills the worker as well.
constexpr double k_backstop_s = 5.0;

/// Larger pipes mean fewer wake-ups for big chunks and outputs.
void widen_pipe(int fd) { ::fcntl(fd, F_SETPIPE_SZ, 1 << 20); }

}  // namespace

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

std::string start_message(const std::string& reason, const std::string& hint) {
    return "cannot start a worker: " + reason + (hint.empty() ? "" : "; " + hint);
}

}  // namespace

StartError::StartError(int error, const char* call)
    : std::runtime_error(start_message(std::string(call) + ": " + std::strerror(error), start_hint(error))),
      m_reason(std::string(call) + ": " + std::strerror(error)),
      m_limit_reached(!start_hint(error).empty()) {}

WorkerHandle WorkerHandle::start(int slot, const PoolOptions& options, const std::shared_ptr<OutputBudget>& budget) {
    os::Pipe down, up;
    try {
        down = os::make_socket_channel();
        up = os::make_pipe();
    } catch (const std::system_error& e) {
        throw StartError(e.code().value(), down.read ? "pipe2" : "socketpair");
    }
    widen_pipe(up.write.get());
    pid_t pid = ::fork();
    if (pid < 0) throw StartError(errno, "fork");
    if (pid == 0) {
        down.write.reset();
        up.read.reset();
        worker_main(slot, options, std::move(down.read), std::move(up.write));
    }
    // The worker makes its group too; doing it here as well means no signal
    // to the group can miss it.
    ::setpgid(pid, pid);
    WorkerHandle handle;
    handle.m_pid = pid;
    handle.m_pidfd = os::Fd(os::open_pidfd(pid));
    handle.m_stdout = Spool(budget);
    handle.m_stderr = Spool(budget);
    handle.m_slot = slot;
    handle.m_to = std::move(down.write);
    handle.m_from = std::move(up.read);
    os::set_nonblocking(handle.m_from.get(), true);
    return handle;
}

void WorkerHandle::dispatch(detail::Chunk chunk, bool is_command, std::optional<double> timeout, double grace) {
    // Large item bytes (and packed items) are sent from the chunk itself: it stays untouched
    // until the first result, which the worker sends only after reading the whole frame.
    m_chunk = std::move(chunk);
    m_out = protocol::Gather{};
    m_piece = m_offset = 0;
    m_next = m_packed_at = 0;
    if (const auto& p = m_chunk->packed; p.count) {
        protocol::encode_packed_run(m_out, {m_chunk->task, p.separator, p.first_seq, p.count, p.bytes});
    } else {
        std::vector<protocol::WireItem> wire;
        wire.reserve(m_chunk->items.size());
        for (const auto& item : m_chunk->items) wire.push_back(protocol::WireItem{item.seq, item.data});
        protocol::encode_run(m_out, m_chunk->task, wire);
    }
    m_is_command = is_command;
    m_timeout = timeout;
    m_grace = grace;
    m_group = 0;
    arm_deadline();
    flush();
}

void WorkerHandle::arm_deadline() {
    m_deadline.reset();
    if (!m_timeout || !m_chunk || m_next >= chunk_size()) return;
    double limit = *m_timeout;
    // A command's worker enforces the limit itself; the parent is the backstop.
    if (m_is_command) limit += m_grace + k_backstop_s;
    m_deadline = os::Clock::now() + os::seconds(limit);
}

bool WorkerHandle::flush() {
    if (!wants_write()) return true;
    return os::send_pieces(m_to.get(), m_out.pieces, m_piece, m_offset) != os::IoStatus::closed;
}

bool WorkerHandle::fill() {
    // Bounded per wake so that one chatty worker cannot starve the others, and
    // so that what is read ahead of the frames stays small.
    for (int i = 0; i < 2; ++i) {
        auto status = os::read_some(m_from.get(), m_reader.buffer(), 1 << 16);
        if (status == os::IoStatus::closed) return false;
        if (status == os::IoStatus::would_block) return true;
    }
    return true;
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
    char buffer[4096];
    for (;;) {
        ssize_t n = ::read(m_from.get(), buffer, sizeof buffer);
        if (n > 0) continue;
        if (n == 0) return false;
        if (errno == EINTR) continue;
        return errno == EAGAIN;
    }
}

detail::Item WorkerHandle::finish_item() {
    detail::Item item;
    if (m_chunk->packed.count) {
        const auto& p = m_chunk->packed;
        auto end = p.bytes.find(p.separator, m_packed_at);
        item = detail::Item{p.first_seq + m_next, p.bytes.substr(m_packed_at, end - m_packed_at)};
        m_packed_at = end + 1;
    } else {
        item = std::move(m_chunk->items[m_next]);
    }
    ++m_next;
    ++m_tasks_done;
    after_items();
    return item;
}

void WorkerHandle::after_items() {
    m_group = 0;
    m_stdout.reset();
    m_stderr.reset();
    if (m_next >= chunk_size()) {
        m_chunk.reset();
        m_deadline.reset();
    } else {
        arm_deadline();
    }
}

std::uint64_t WorkerHandle::chunk_size() const {
    return m_chunk->packed.count ? m_chunk->packed.count : m_chunk->items.size();
}

std::uint64_t WorkerHandle::running_seq() const {
    if (!m_chunk) return 0;
    return m_chunk->packed.count ? m_chunk->packed.first_seq + m_next : m_chunk->items[m_next].seq;
}

std::vector<detail::Item> WorkerHandle::take_rest() {
    std::vector<detail::Item> rest;
    if (!m_chunk) return rest;
    if (auto& p = m_chunk->packed; p.count) {
        // Unpacked: what goes back is requeued item by item.
        auto at = p.bytes.find(p.separator, m_packed_at) + 1;
        for (auto seq = p.first_seq + m_next + 1; seq < p.first_seq + p.count; ++seq) {
            auto end = p.bytes.find(p.separator, at);
            rest.push_back(detail::Item{seq, p.bytes.substr(at, end - at)});
            at = end + 1;
        }
        p.count = std::min<std::uint64_t>(p.count, m_next + 1);
        return rest;
    }
    for (std::size_t i = m_next + 1; i < m_chunk->items.size(); ++i) rest.push_back(std::move(m_chunk->items[i]));
    m_chunk->items.resize(std::min(m_chunk->items.size(), m_next + 1));
    return rest;
}

std::string_view WorkerHandle::run_inputs(std::uint64_t count, std::uint64_t input_bytes) const {
    if (!m_chunk || !m_chunk->packed.count) throw protocol::ProtocolError("run result from a worker with no packed chunk");
    const auto& p = m_chunk->packed;
    if (count > p.count - m_next || input_bytes > p.bytes.size() - m_packed_at)
        throw protocol::ProtocolError("run result for items not handed out");
    auto inputs = std::string_view(p.bytes).substr(m_packed_at, static_cast<std::size_t>(input_bytes));
    if (!inputs.empty() && inputs.back() != p.separator) throw protocol::ProtocolError("run result cuts an item");
    return inputs;
}

std::string WorkerHandle::finish_run(std::uint64_t count, std::uint64_t input_bytes) {
    auto& bytes = m_chunk->packed.bytes;
    std::string inputs = m_packed_at == 0 && input_bytes == bytes.size()
                             ? std::move(bytes)
                             : bytes.substr(m_packed_at, static_cast<std::size_t>(input_bytes));
    m_next += static_cast<std::size_t>(count);
    m_packed_at += static_cast<std::size_t>(input_bytes);
    m_tasks_done += count;
    after_items();
    return inputs;
}

void WorkerHandle::retire() {
    m_retiring = true;
    m_to.reset();
}

os::ExitStatus WorkerHandle::kill_and_reap() {
    os::signal_process(m_pid, SIGKILL);
    if (m_group > 0) os::signal_group(m_group, SIGKILL);
    return reap();
}

os::ExitStatus WorkerHandle::reap() {
    // What a registered task left running in the worker's group goes with it.
    auto status = os::reap_with_group(m_pid);
    m_pid = -1;
    m_pidfd.reset();
    m_to.reset();
    m_from.reset();
    return status;
}

}  // namespace ppool::worker
