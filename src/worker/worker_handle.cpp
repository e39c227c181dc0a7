#include "worker/worker_handle.hpp"

#include "os/process.hpp"
#include "protocol/messages.hpp"
#include "protocol/packed.hpp"

#include <cerrno>
#include <csignal>
#include <system_error>
#include <unistd.h>

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
    handle.m_pidfd = os::Fd(os::open_pidfd(launched.pid));
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
    os::set_nonblocking(handle.m_from.get(), true);
    return handle;
}

void WorkerHandle::dispatch(detail::Chunk chunk, std::optional<double> timeout, double grace) {
    // Large item bytes (and packed items) are sent from the chunk itself: it stays untouched
    // until the first result, which the worker sends only after reading the whole frame.
    m_chunk = std::move(chunk);
    if (!wants_write()) {
        m_out = protocol::Gather{};
        m_piece = m_offset = 0;
    }
    m_next = m_packed_at = 0;
    if (const auto& p = m_chunk->packed; p.count) {
        protocol::encode_packed_run(m_out, {m_chunk->task->name, p.separator, p.first_seq, p.count, p.bytes});
    } else {
        std::vector<protocol::WireItem> wire;
        wire.reserve(m_chunk->items.size());
        for (const auto& item : m_chunk->items) wire.push_back(protocol::WireItem{item.seq, item.data});
        protocol::encode_run(m_out, m_chunk->task->name, wire);
    }
    m_timeout = timeout;
    m_grace = grace;
    arm_deadline();
    flush();
}

void WorkerHandle::arm_deadline() {
    m_deadline.reset();
    if (!m_timeout || !m_chunk || m_next >= chunk_size()) return;
    double limit = *m_timeout;
    // A command's worker enforces the limit itself; the parent is the backstop.
    if (m_chunk->task->is_command()) limit += m_grace + k_backstop_s;
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

void WorkerHandle::relay_stderr() {
    std::string data;
    while (m_err && os::read_some(m_err.get(), data, 1 << 16) == os::IoStatus::done) {
    }
    if (data.empty()) return;
    os::write_all(2, data);
    m_err_partial += data;
    for (auto newline = m_err_partial.find('\n'); newline != std::string::npos; newline = m_err_partial.find('\n')) {
        if (newline > 0) m_last_line = m_err_partial.substr(0, newline);
        m_err_partial.erase(0, newline + 1);
    }
}

std::string WorkerHandle::last_stderr_line() const { return m_err_partial.empty() ? m_last_line : m_err_partial; }

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
    return reap();
}

os::ExitStatus WorkerHandle::reap() {
    // What a registered task left running in the worker's group goes with it.
    auto status = os::reap_with_group(m_pid);
    // The last words of a launcher's process are in its pipe now: pass them on.
    relay_stderr();
    m_pid = -1;
    m_pidfd.reset();
    m_to.reset();
    m_from.reset();
    m_err.reset();
    return status;
}

}  // namespace ppool::worker
