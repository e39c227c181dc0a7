#include "worker/worker_handle.hpp"

#include "os/process.hpp"
#include "protocol/messages.hpp"
#include "worker/worker_main.hpp"

#include <cerrno>
#include <csignal>
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

WorkerHandle WorkerHandle::start(int slot, const PoolOptions& options) {
    auto down = os::make_socket_channel();
    auto up = os::make_pipe();
    widen_pipe(up.write.get());
    pid_t pid = ::fork();
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid == 0) {
        down.write.reset();
        up.read.reset();
        worker_main(slot, options, std::move(down.read), std::move(up.write));
    }
    WorkerHandle handle;
    handle.m_pid = pid;
    handle.m_slot = slot;
    handle.m_to = std::move(down.write);
    handle.m_from = std::move(up.read);
    os::set_nonblocking(handle.m_from.get(), true);
    return handle;
}

void WorkerHandle::dispatch(detail::Chunk chunk, bool is_command, std::optional<double> timeout, double grace) {
    // Large item bytes are sent from the chunk itself: it stays untouched until
    // the first result, which the worker sends only after reading the whole frame.
    m_chunk = std::move(chunk);
    std::vector<protocol::WireItem> wire;
    wire.reserve(m_chunk->items.size());
    for (const auto& item : m_chunk->items) wire.push_back(protocol::WireItem{item.seq, item.data});
    m_out = protocol::Gather{};
    m_piece = m_offset = 0;
    protocol::encode_run(m_out, m_chunk->task, wire);
    m_next = 0;
    m_is_command = is_command;
    m_timeout = timeout;
    m_grace = grace;
    m_group = 0;
    arm_deadline();
    flush();
}

void WorkerHandle::arm_deadline() {
    m_deadline.reset();
    if (!m_timeout || !m_chunk || m_next >= m_chunk->items.size()) return;
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
    // Bounded per wake so that one chatty worker cannot starve the others.
    for (int i = 0; i < 16; ++i) {
        auto status = os::read_some(m_from.get(), m_reader.buffer(), 1 << 16);
        if (status == os::IoStatus::closed) return false;
        if (status == os::IoStatus::would_block) return true;
    }
    return true;
}

detail::Item WorkerHandle::finish_item() {
    auto item = std::move(m_chunk->items[m_next]);
    ++m_next;
    ++m_tasks_done;
    m_group = 0;
    m_stdout.reset();
    m_stderr.reset();
    if (m_next >= m_chunk->items.size()) {
        m_chunk.reset();
        m_deadline.reset();
    } else {
        arm_deadline();
    }
    return item;
}

std::vector<detail::Item> WorkerHandle::take_rest() {
    std::vector<detail::Item> rest;
    if (!m_chunk) return rest;
    for (std::size_t i = m_next + 1; i < m_chunk->items.size(); ++i) rest.push_back(std::move(m_chunk->items[i]));
    m_chunk->items.resize(std::min(m_chunk->items.size(), m_next + 1));
    return rest;
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
    auto status = os::wait_for(m_pid);
    m_pid = -1;
    m_to.reset();
    m_from.reset();
    return status;
}

}  // namespace ppool::worker
