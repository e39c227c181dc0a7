#include "worker/hub.hpp"

#include "os/event_loop.hpp"
#include "os/fd.hpp"
#include "os/process.hpp"
#include "os/tcp.hpp"
#include "protocol/mux.hpp"
#include "worker/launcher.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <system_error>
#include <fcntl.h>
#include <map>
#include <memory>
#include <poll.h>
#include <unistd.h>

namespace ppool::worker {

namespace {

namespace mux = protocol::mux;

/// Bytes read from a worker in one go: a data frame's payload.
constexpr std::size_t k_read_size = 1 << 16;
/// Above this much waiting for the pool, the hub stops reading its workers.
constexpr std::size_t k_out_limit = 4 << 20;
/// How long connecting to the pool's host and its answer may take.
constexpr int k_connect_timeout_ms = 10'000;
/// How long workers get to stop their tasks once the channel is gone.
constexpr double k_stop_wait_s = 60;

struct Slot {
    pid_t pid = -1;
    os::Fd to;       // the worker's input (a socket)
    os::Fd from;     // the worker's output (a pipe)
    os::Fd exit;     // its pidfd
    std::string in;  // bytes for the worker not yet written
    bool shut = false;
};

class Hub {
public:
    Hub(int in, int out) : m_stdin(in), m_in(in), m_out(out) {
        os::set_nonblocking(m_in, true);
        os::set_nonblocking(m_out, true);
        mux::append_hello(m_to_pool);
    }

    [[noreturn]] void serve() {
        try {
            while (step()) {
            }
        } catch (const std::exception& e) {
            std::fprintf(stderr, "ppool worker --hub: %s\n", e.what());
        }
        stop_all();
        ::_exit(0);
    }

private:
    /// One wait and what it brings; false once the pool's channel is gone.
    bool step() {
        os::PollSet set;
        std::size_t in_index = set.add(m_in, POLLIN);
        // Once the channel is a connection of its own, stdin only says when the pool is gone.
        std::size_t stdin_index = m_in != m_stdin ? set.add(m_stdin, POLLIN) : SIZE_MAX;
        std::size_t out_index = m_to_pool.empty() ? SIZE_MAX : set.add(m_out, POLLOUT);
        std::vector<std::pair<std::uint32_t, std::size_t>> reads, writes, exits;
        for (auto& [id, s] : m_slots) {
            if (s.from && m_to_pool.size() < k_out_limit) reads.emplace_back(id, set.add(s.from.get(), POLLIN));
            if (s.to && !s.in.empty()) writes.emplace_back(id, set.add(s.to.get(), POLLOUT));
            if (s.exit) exits.emplace_back(id, set.add(s.exit.get(), POLLIN));
        }
        if (::poll(set.data(), set.size(), -1) < 0) {
            if (errno == EINTR) return true;
            throw std::system_error(errno, std::generic_category(), "poll");
        }
        if (out_index != SIZE_MAX && set.revents(out_index) != 0) {
            std::string_view pending = m_to_pool;
            if (os::write_some(m_out, pending) == os::IoStatus::closed) return false;
            m_to_pool.erase(0, m_to_pool.size() - pending.size());
        }
        for (auto [id, index] : writes)
            if (set.revents(index) != 0) write_to(id);
        for (auto [id, index] : reads)
            if (set.revents(index) != 0) read_from(id);
        for (auto [id, index] : exits)
            if (set.revents(index) != 0) ended(id);
        if (stdin_index != SIZE_MAX && set.revents(stdin_index) != 0) {
            std::string ignored;
            if (os::read_some(m_stdin, ignored, k_read_size) == os::IoStatus::closed) return false;
        }
        if (set.revents(in_index) != 0) {
            if (os::read_some(m_in, m_reader.buffer(), k_read_size) == os::IoStatus::closed) return false;
            while (auto frame = m_reader.next()) on_frame(*frame);
        }
        return true;
    }

    void on_frame(const mux::Frame& f) {
        switch (f.kind) {
        case mux::Kind::open: open(f.id); break;
        case mux::Kind::data: {
            auto it = m_slots.find(f.id);
            if (it == m_slots.end() || !it->second.to) return;  // it ended: its bytes have no reader
            it->second.in.append(f.payload);
            write_to(f.id);
            break;
        }
        case mux::Kind::shut: {
            auto it = m_slots.find(f.id);
            if (it == m_slots.end()) return;
            it->second.shut = true;
            if (it->second.in.empty()) it->second.to.reset();
            break;
        }
        case mux::Kind::connect: connect(f.payload); break;
        case mux::Kind::kill: {
            auto it = m_slots.find(f.id);
            if (it == m_slots.end()) return;
            os::signal_process(it->second.pid, SIGKILL);
            ended(f.id);
            break;
        }
        default: throw protocol::ProtocolError("a hub frame the pool never sends");
        }
    }

    /// Moves the channel to a connection of its own to the pool's host, as
    /// the pool asks: srun's own forwarding holds messages of over 1 KiB
    /// about 40 ms. Where that cannot be, says why, and the channel stays.
    void connect(std::string_view payload) {
        auto [port, token] = mux::decode_connect(payload);
        // What is pending (the hello) goes first, the old way.
        while (!m_to_pool.empty()) {
            pollfd p{m_out, POLLOUT, 0};
            ::poll(&p, 1, -1);
            std::string_view pending = m_to_pool;
            if (os::write_some(m_out, pending) == os::IoStatus::closed) throw std::runtime_error("the pool is gone");
            m_to_pool.erase(0, m_to_pool.size() - pending.size());
        }
        const char* address = std::getenv("SLURM_LAUNCH_NODE_IPADDR");
        std::string error = "SLURM_LAUNCH_NODE_IPADDR is not set";
        os::Fd tcp;
        if (address && *address) tcp = os::connect_tcp(address, port, k_connect_timeout_ms, error);
        char ack = 0;
        if (tcp) {
            try {
                os::write_all(tcp.get(), token);
            } catch (const std::system_error& e) {
                error = e.what();
                tcp.reset();
            }
        }
        if (tcp && !os::read_within(tcp.get(), &ack, 1, k_connect_timeout_ms)) {
            error = "the pool did not take the connection";
            tcp.reset();
        }
        if (!tcp) {
            mux::append(m_to_pool, mux::Kind::unconnected, 0, error);
            return;
        }
        os::set_nonblocking(tcp.get(), true);
        m_tcp = std::move(tcp);
        m_in = m_out = m_tcp.get();
    }

    void open(std::uint32_t id) {
        if (m_slots.count(id)) throw protocol::ProtocolError("worker " + std::to_string(id) + " opened twice");
        Slot s;
        try {
            auto launched = m_fork->launch();
            s.pid = launched.pid;
            s.to = std::move(launched.to);
            s.from = std::move(launched.from);
            s.exit = os::Fd(os::open_pidfd(s.pid));
            os::set_nonblocking(s.from.get(), true);
        } catch (const StartError& e) {
            // The pool hears of it as a worker that ended before it said hello.
            std::fprintf(stderr, "ppool worker --hub: %s\n", e.what());
            mux::append_ended(m_to_pool, id, 1, 0);
            return;
        }
        m_slots.emplace(id, std::move(s));
    }

    void write_to(std::uint32_t id) {
        auto& s = m_slots.at(id);
        std::string_view pending = s.in;
        if (os::write_some(s.to.get(), pending) == os::IoStatus::closed) {
            // The worker closed its input: it is ending, its pidfd will say so.
            s.in.clear();
            s.to.reset();
            return;
        }
        s.in.erase(0, s.in.size() - pending.size());
        if (s.in.empty() && s.shut) s.to.reset();
    }

    /// Passes on what the worker wrote; false at its end of file.
    bool read_from(std::uint32_t id) {
        auto& s = m_slots.at(id);
        m_buffer.clear();
        auto status = os::read_some(s.from.get(), m_buffer, k_read_size);
        if (!m_buffer.empty()) mux::append(m_to_pool, mux::Kind::data, id, m_buffer);
        if (status == os::IoStatus::closed) {
            s.from.reset();
            return false;
        }
        return status == os::IoStatus::done;
    }

    /// The worker ended (or was killed): its last bytes, then its status.
    void ended(std::uint32_t id) {
        auto& s = m_slots.at(id);
        while (s.from && read_from(id)) {
        }
        auto status = os::reap_with_group(s.pid);
        mux::append_ended(m_to_pool, id, status.code, status.signal);
        m_slots.erase(id);
    }

    /// The pool is gone: every worker hears a hangup and stops its task,
    /// and what is still there after a while is killed.
    void stop_all() {
        for (auto& [id, s] : m_slots) s.to.reset();
        auto deadline = os::Clock::now() + os::seconds(k_stop_wait_s);
        while (!m_slots.empty()) {
            os::PollSet set;
            std::vector<std::uint32_t> ids;
            for (auto& [id, s] : m_slots) {
                ids.push_back(id);
                set.add(s.exit ? s.exit.get() : -1, POLLIN);
            }
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - os::Clock::now()).count();
            if (left <= 0 || ::poll(set.data(), set.size(), static_cast<int>(left)) == 0) break;
            for (std::size_t i = 0; i < ids.size(); ++i)
                if (set.revents(i) != 0) {
                    os::reap_with_group(m_slots.at(ids[i]).pid);
                    m_slots.erase(ids[i]);
                }
        }
        for (auto& [id, s] : m_slots) {
            os::signal_process(s.pid, SIGKILL);
            os::reap_with_group(s.pid);
        }
    }

    int m_stdin;  // the pool's channel as srun carries it
    int m_in;     // where frames come from: stdin, or the connection
    int m_out;    // where they go: stdout, or the connection
    os::Fd m_tcp;
    mux::Reader m_reader;
    std::string m_to_pool;
    std::string m_buffer;
    std::map<std::uint32_t, Slot> m_slots;
    std::unique_ptr<Launcher> m_fork = make_launcher("fork");
};

}  // namespace

void run_hub() {
    // The channel moves off descriptors 0 and 1; stray prints go to stderr.
    int in = ::fcntl(0, F_DUPFD_CLOEXEC, 3);
    int out = ::fcntl(1, F_DUPFD_CLOEXEC, 3);
    if (in < 0 || out < 0) {
        std::fprintf(stderr, "ppool worker: no channel on stdin and stdout\n");
        ::_exit(2);
    }
    auto null = os::open_dev_null();
    ::dup2(null.get(), 0);
    ::dup2(2, 1);
    std::signal(SIGPIPE, SIG_IGN);
    std::signal(SIGINT, SIG_IGN);
    std::signal(SIGHUP, SIG_IGN);
    Hub(in, out).serve();
}

}  // namespace ppool::worker
