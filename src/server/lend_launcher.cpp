#include "server/lend_launcher.hpp"

#include "os/event_loop.hpp"
#include "os/file.hpp"
#include "os/process.hpp"
#include "os/signals.hpp"
#include "os/unix_socket.hpp"

#include <csignal>
#include <fmt/format.h>
#include <unistd.h>

namespace ppool::server {

namespace {

/// While the pool holds no worker and waits for one: how long before it
/// asks the server for one more (a lend lost at the server never comes).
constexpr int k_ask_again_ms = 10000;

/// A lent worker: another process's child, which this pool may stop but
/// not reap.
class LentProcess final : public worker::WorkerProcess {
public:
    LentProcess(os::Fd pidfd, os::Fd channel_end, std::shared_ptr<std::size_t> live)
        : m_pidfd(std::move(pidfd)), m_channel_end(std::move(channel_end)), m_live(std::move(live)) {
        ++*m_live;
    }
    ~LentProcess() override { release(); }

    void kill() override {
        // One that has let go of its channel has gone back to the server (or
        // ended): it is not this pool's to kill any more.
        if (os::wait_for_hangup(m_channel_end.get(), 0) || !m_pidfd) return;
        os::signal_pidfd(m_pidfd.get(), SIGKILL);
        m_killed = true;
    }

    os::ExitStatus wait() override {
        release();
        if (!m_killed) return os::ExitStatus{0, 0};
        // Its parent, the server, reaps it: here its end is only seen.
        os::wait_for_pidfd(m_pidfd.get());
        return os::ExitStatus{-1, SIGKILL};
    }

private:
    void release() {
        if (m_released) return;
        m_released = true;
        --*m_live;
    }

    os::Fd m_pidfd;
    os::Fd m_channel_end;  // the read end of its channel, only polled
    std::shared_ptr<std::size_t> m_live;
    bool m_killed = false;
    bool m_released = false;
};

}  // namespace

LendLauncher::LendLauncher(const std::string& socket)
    : m_server(socket), m_dir(os::PrivateDir::create("ppool-lend")), m_name(fmt::format("the server at {}", socket)) {
    Request status;
    status.kind = RequestKind::status;
    m_server_workers = static_cast<std::size_t>(m_server.call(status)->status.workers);
    m_address = m_dir.path() + "/workers.sock";
    m_listener = os::listen_unix(m_address);
    os::set_nonblocking(m_listener.get(), true);
    m_directory = os::current_directory();
}

LendLauncher::~LendLauncher() = default;

void LendLauncher::ask(std::size_t count) {
    Request lend;
    lend.kind = RequestKind::lend;
    lend.id = count;
    lend.item = m_address;
    lend.item.push_back('\0');
    lend.item += m_directory;
    m_server.call(lend);
    m_asked += count;
}

void LendLauncher::accept_arrived() {
    while (auto fd = os::accept_unix(m_listener.get())) {
        // Only a process of this user's, which the server's workers are.
        if (os::peer_uid(fd->get()) == ::getuid()) m_arrived.push_back(std::move(*fd));
    }
}

void LendLauncher::on_ready() { accept_arrived(); }

std::string LendLauncher::lost() const {
    if (os::wait_for_hangup(m_server.fd(), 0)) return fmt::format("the server at {} went away", m_server.path());
    return {};
}

worker::LaunchedWorker LendLauncher::launch() {
    if (m_asked == 0) ask(m_wanted);
    accept_arrived();
    if (m_arrived.empty()) {
        if (*m_live > 0) throw worker::StartError(EAGAIN, "no worker of the server is free");
        if (m_asked <= m_accepted) ask(1);
        // Holding none: wait for the next, for the server to go away, or for a signal (Ctrl-C).
        os::PollSet set;
        for (;;) {
            set.clear();
            set.add(m_listener.get(), POLLIN);
            set.add(m_server.fd(), POLLIN);
            auto wake = os::wait(set, os::Clock::now() + std::chrono::milliseconds(k_ask_again_ms));
            if (wake == os::Wake::signal) throw Interrupted(os::take_caught_signal());
            if (wake == os::Wake::ready && set.revents(1))
                throw ServerLost(fmt::format("the server at {} went away", m_server.path()));
            accept_arrived();
            if (!m_arrived.empty()) break;
            if (wake == os::Wake::deadline) ask(1);
        }
    }
    auto channel = std::move(m_arrived.front());
    m_arrived.pop_front();
    ++m_accepted;
    os::Fd pidfd(os::open_pidfd(os::peer_pid(channel.get())));
    // Its channel up is a pipe, as a started worker's is: its end is sent over the socket.
    auto up = os::make_pipe();
    os::send_fd(channel.get(), up.write.get());
    up.write.reset();
    worker::LaunchedWorker launched;
    launched.to = std::move(channel);
    auto watched = os::duplicate(up.read.get());
    launched.from = std::move(up.read);
    launched.process = std::make_shared<LentProcess>(std::move(pidfd), std::move(watched), m_live);
    return launched;
}

}  // namespace ppool::server
