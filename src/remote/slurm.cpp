#include "remote/slurm.hpp"

#include "os/event_loop.hpp"
#include "os/fd.hpp"
#include "os/process.hpp"
#include "os/spawn.hpp"
#include "os/tcp.hpp"
#include "os/tied_spawn.hpp"
#include "ppool/errors.hpp"
#include "protocol/mux.hpp"
#include "worker/line_relay.hpp"

#include <charconv>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <map>
#include <mutex>
#include <optional>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <system_error>
#include <thread>
#include <unistd.h>

namespace ppool::remote {

namespace mux = protocol::mux;

namespace {

using namespace std::chrono_literals;

std::string getenv_or_empty(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

/// What `argv` prints on stdout, when it succeeds by `deadline`; throws UsageError saying `what` failed.
std::string output_of(const std::vector<std::string>& argv, const std::string& what, os::TimePoint deadline) {
    auto out = os::make_pipe();
    auto null = os::open_dev_null();
    auto spawned =
        os::spawn(os::SpawnRequest{argv, os::environment(), null.get(), out.write.get(), 2, true, nullptr});
    out.write.reset();
    if (spawned.error != 0)
        throw UsageError(fmt::format("{}: cannot run {}: {}", what, argv.front(), std::strerror(spawned.error)));
    std::string text;
    os::set_nonblocking(out.read.get(), true);
    for (;;) {
        os::PollSet set;
        set.add(out.read.get(), POLLIN);
        if (os::wait(set, deadline) != os::Wake::ready) break;
        if (os::read_some(out.read.get(), text, 1 << 16) == os::IoStatus::closed) break;
    }
    auto status = os::reap_by(spawned.pid, deadline);
    if (!status) {
        os::signal_group(spawned.pid, SIGKILL);
        os::wait_for(spawned.pid);
        throw UsageError(fmt::format("{}: {} did not answer", what, argv.front()));
    }
    if (!status->ok()) throw UsageError(fmt::format("{}: {} failed", what, fmt::join(argv, " ")));
    return text;
}

}  // namespace

std::vector<std::size_t> parse_cpus_per_node(std::string_view text) {
    auto bad = [&] { return UsageError(fmt::format("cannot read SLURM_JOB_CPUS_PER_NODE '{}'", text)); };
    auto number = [&](std::string_view s) {
        std::size_t n = 0;
        auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), n);
        if (error != std::errc() || end != s.data() + s.size() || s.empty()) throw bad();
        return n;
    };
    std::vector<std::size_t> cpus;
    while (!text.empty() || cpus.empty()) {
        auto comma = text.find(',');
        auto part = text.substr(0, comma);
        std::size_t repeat = 1;
        if (auto open = part.find("(x"); open != std::string_view::npos) {
            if (part.back() != ')') throw bad();
            repeat = number(part.substr(open + 2, part.size() - open - 3));
            part = part.substr(0, open);
        }
        auto n = number(part);
        if (n == 0 || repeat == 0 || repeat > 1'000'000) throw bad();
        cpus.insert(cpus.end(), repeat, n);
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
        if (text.empty()) throw bad();
    }
    return cpus;
}

std::vector<SlurmNode> slurm_allocation() {
    if (getenv_or_empty("SLURM_JOB_ID").empty())
        throw UsageError("--slurm runs inside a Slurm allocation, and SLURM_JOB_ID is not set: "
                         "run ppool under salloc or in an sbatch script");
    auto list = getenv_or_empty("SLURM_JOB_NODELIST");
    if (list.empty()) list = getenv_or_empty("SLURM_NODELIST");
    auto cpus_text = getenv_or_empty("SLURM_JOB_CPUS_PER_NODE");
    if (list.empty() || cpus_text.empty())
        throw UsageError("--slurm: the allocation's SLURM_JOB_NODELIST and SLURM_JOB_CPUS_PER_NODE are not set");
    auto cpus = parse_cpus_per_node(cpus_text);
    auto names = output_of({"scontrol", "show", "hostnames", list}, "--slurm: cannot list the allocation's nodes",
                           os::Clock::now() + 60s);
    std::vector<SlurmNode> nodes;
    std::string_view rest = names;
    while (!rest.empty()) {
        auto newline = rest.find('\n');
        auto name = rest.substr(0, newline);
        if (!name.empty()) nodes.push_back(SlurmNode{std::string(name), 1});
        if (newline == std::string_view::npos) break;
        rest.remove_prefix(newline + 1);
    }
    if (nodes.empty() || nodes.size() != cpus.size())
        throw UsageError(fmt::format("--slurm: the allocation has {} nodes ({}) but SLURM_JOB_CPUS_PER_NODE '{}' names {}",
                                     nodes.size(), list, cpus_text, cpus.size()));
    for (std::size_t i = 0; i < nodes.size(); ++i) nodes[i].cpus = cpus[i];
    return nodes;
}

/// One node's hub step (the `srun` that runs `ppool worker --hub`) and the
/// thread that passes each worker's bytes between its channel and the step's.
///
/// The step's channel starts as srun's stdin and stdout. srun carries those in
/// messages of at most 1 KiB, and holds each next message of a burst about
/// 40 ms (Nagle's algorithm on its connection to the step), so that a frame
/// of over 1 KiB takes ~90 ms there and back. So the hub is asked at once to
/// connect to this host (at the address srun gives the step) with a token
/// only it was told; once this end has taken the token and answered, that
/// connection, with Nagle's algorithm off, is the channel. srun's stdin then
/// stays open only to end the hub when it closes (and with it this process),
/// and its stdout only to say when the step has ended. Where the hub cannot
/// connect, the channel stays with srun.
class HubLink : public std::enable_shared_from_this<HubLink> {
public:
    HubLink(const std::vector<std::string>& argv, std::string name);
    ~HubLink();
    HubLink(const HubLink&) = delete;
    HubLink& operator=(const HubLink&) = delete;

    /// A new worker on the node.
    worker::LaunchedWorker open();
    /// Whether the step has ended: the next worker needs a new one.
    bool dead() const {
        std::lock_guard lock(m_mutex);
        return m_dead;
    }
    void kill(std::uint32_t id);
    os::ExitStatus wait(std::uint32_t id);
    std::string last_words() const {
        std::lock_guard lock(m_mutex);
        return m_words.empty() ? m_stderr.last_line() : m_words;
    }

private:
    struct Slot {
        os::Fd from_pool;  // what the pool writes to the worker
        os::Fd to_pool;    // what the worker writes, for the pool
        std::string out;   // bytes for the pool not yet written
        bool ended = false;
        bool killed = false;
    };
    struct Command {
        mux::Kind kind;
        std::uint32_t id;
    };
    /// Where the channel is: waiting for the hub's hello, waiting for its
    /// connection, on that connection, or on srun's stdin and stdout.
    enum class Mode { greeting, connecting, direct, srun };

    void run();
    /// One wait and what it brings; false once the step is gone.
    bool step(std::unique_lock<std::mutex>& lock);
    void on_frame(const mux::Frame& frame);
    /// The hub said hello: asks it to connect, where this end listens.
    void on_hello();
    /// Takes the hub's connection, if the one knocking shows the token; the
    /// lock is let go while it waits for the token.
    void accept(std::unique_lock<std::mutex>& lock);
    /// The step has ended (or speaks no hub protocol): every worker on it ends with it.
    void finish(std::unique_lock<std::mutex>& lock);
    void wake();
    int channel_in() const { return m_tcp ? m_tcp.get() : m_from_step.get(); }
    int channel_out() const { return m_tcp ? m_tcp.get() : m_to_step.get(); }

    std::string m_name;
    pid_t m_pid = -1;
    os::Fd m_to_step;    // srun's stdin
    os::Fd m_from_step;  // srun's stdout
    os::Fd m_err;
    os::Fd m_wake;
    os::Fd m_listener;
    os::Fd m_tcp;
    std::string m_token;
    std::string m_token_frame;  // the connect frame that carries it
    Mode m_mode = Mode::greeting;
    std::optional<os::TimePoint> m_connect_by;
    mutable std::mutex m_mutex;
    std::condition_variable m_ended;
    std::map<std::uint32_t, Slot> m_slots;
    std::map<std::uint32_t, os::ExitStatus> m_status;  // ended, not yet waited for
    std::vector<Command> m_commands;
    std::uint32_t m_next_id = 0;
    std::string m_to_hub;
    mux::Reader m_reader;
    bool m_dead = false;      // no worker starts on it any more
    bool m_finished = false;  // the step is reaped: m_step_status says how it ended
    bool m_closing = false;
    bool m_closed = false;    // the hub was told the pool is done
    std::optional<os::TimePoint> m_close_by;
    os::ExitStatus m_step_status;
    worker::LineRelay m_stderr;
    std::string m_words;  // what ppool says about the step, when the step itself said nothing
    std::thread m_thread;
};

namespace {

/// Bytes read from a worker or the step at once.
constexpr std::size_t k_read_size = 1 << 16;
/// Above this much waiting for the step, workers are not read.
constexpr std::size_t k_out_limit = 4 << 20;
/// How long the hub has to connect: longer than it waits itself, so that
/// this end never gives up on a connection the hub already counts on.
constexpr auto k_connect_wait = 30s;
/// How long a connection has to show its token.
constexpr int k_token_wait_ms = 5'000;

class HubProcess final : public worker::WorkerProcess {
public:
    HubProcess(std::shared_ptr<HubLink> link, std::uint32_t id) : m_link(std::move(link)), m_id(id) {}
    void kill() override { m_link->kill(m_id); }
    os::ExitStatus wait() override { return m_link->wait(m_id); }
    std::string last_words() const override { return m_link->last_words(); }

private:
    std::shared_ptr<HubLink> m_link;
    std::uint32_t m_id;
};

/// Compares without a timing that depends on where the bytes differ.
bool same_token(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

}  // namespace

HubLink::HubLink(const std::vector<std::string>& argv, std::string name) : m_name(std::move(name)) {
    // srun passes on what comes through a pipe at once, but holds what comes
    // through a socket about 40 ms per message: the step's input is a pipe.
    auto launched = worker::launch_command(argv, true);
    m_pid = launched.pid;
    m_to_step = std::move(launched.to);
    m_from_step = std::move(launched.from);
    m_err = std::move(launched.err);
    os::set_nonblocking(m_to_step.get(), true);
    os::set_nonblocking(m_from_step.get(), true);
    m_wake = os::Fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!m_wake) {
        int error = errno;
        os::signal_group(m_pid, SIGKILL);
        os::wait_for(m_pid);
        throw worker::StartError(error, "eventfd");
    }
    try {
        auto listener = os::listen_tcp();
        m_token.resize(mux::k_token_size);
        if (::getrandom(m_token.data(), m_token.size(), 0) != static_cast<ssize_t>(m_token.size()))
            throw std::system_error(errno, std::generic_category(), "getrandom");
        m_listener = std::move(listener.fd);
        mux::append_connect(m_token_frame, listener.port, m_token);
    } catch (const std::system_error&) {
        // No listening here: the channel stays with srun.
        m_listener.reset();
    }
    m_thread = std::thread([this] { run(); });
}

HubLink::~HubLink() {
    {
        std::lock_guard lock(m_mutex);
        m_closing = true;
    }
    wake();
    m_thread.join();
}

void HubLink::wake() {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(m_wake.get(), &one, sizeof one);
}

worker::LaunchedWorker HubLink::open() {
    auto channel = worker::make_channel();
    os::set_nonblocking(channel.down.read.get(), true);
    os::set_nonblocking(channel.up.write.get(), true);
    std::uint32_t id;
    {
        std::lock_guard lock(m_mutex);
        id = ++m_next_id;
        // A step that just ended: the worker's channel closes at once, and it ends as the step did.
        if (!m_dead) {
            m_slots.emplace(id, Slot{std::move(channel.down.read), std::move(channel.up.write), {}, false, false});
            m_commands.push_back({mux::Kind::open, id});
        }
    }
    wake();
    return worker::LaunchedWorker{-1, std::move(channel.down.write), std::move(channel.up.read), {},
                                  std::make_shared<HubProcess>(shared_from_this(), id)};
}

void HubLink::kill(std::uint32_t id) {
    {
        std::lock_guard lock(m_mutex);
        auto it = m_slots.find(id);
        if (it == m_slots.end() || it->second.ended || it->second.killed) return;
        it->second.killed = true;
        m_status[id] = os::ExitStatus{-1, SIGKILL};
        m_commands.push_back({mux::Kind::kill, id});
    }
    wake();
}

os::ExitStatus HubLink::wait(std::uint32_t id) {
    std::unique_lock lock(m_mutex);
    m_ended.wait(lock, [&] { return m_status.count(id) > 0 || m_finished; });
    auto it = m_status.find(id);
    if (it == m_status.end()) return m_step_status;
    auto status = it->second;
    m_status.erase(it);
    return status;
}

void HubLink::run() {
    // A write to a worker's channel that the pool has closed fails with EPIPE
    // here, and the signal stays with this thread, which never takes it.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    std::unique_lock lock(m_mutex);
    try {
        while (step(lock)) {
        }
    } catch (const std::exception& e) {
        m_words = fmt::format("{}: {}", m_name, e.what());
    }
    finish(lock);
}

bool HubLink::step(std::unique_lock<std::mutex>& lock) {
    bool writing = m_mode == Mode::direct || m_mode == Mode::srun;
    os::PollSet set;
    std::size_t wake_index = set.add(m_wake.get(), POLLIN);
    std::size_t in_index = set.add(channel_in(), POLLIN);
    // On the hub's own connection, srun's stdout only says when the step ends.
    std::size_t step_index = m_tcp ? set.add(m_from_step.get(), POLLIN) : SIZE_MAX;
    std::size_t out_index =
        writing && channel_out() >= 0 && !m_to_hub.empty() ? set.add(channel_out(), POLLOUT) : SIZE_MAX;
    std::size_t listen_index = m_mode == Mode::connecting ? set.add(m_listener.get(), POLLIN) : SIZE_MAX;
    std::size_t err_index = m_err ? set.add(m_err.get(), POLLIN) : SIZE_MAX;
    std::vector<std::pair<std::uint32_t, std::size_t>> reads, writes;
    for (auto& [id, s] : m_slots) {
        if (s.from_pool && !s.killed && !m_closing && m_to_hub.size() < k_out_limit)
            reads.emplace_back(id, set.add(s.from_pool.get(), POLLIN));
        if (s.to_pool && !s.out.empty()) writes.emplace_back(id, set.add(s.to_pool.get(), POLLOUT));
    }
    std::optional<os::TimePoint> until = m_close_by;
    if (m_mode == Mode::connecting && (!until || *m_connect_by < *until)) until = m_connect_by;
    int timeout = -1;
    if (until)
        timeout = static_cast<int>(
            std::max<long>(0, std::chrono::duration_cast<std::chrono::milliseconds>(*until - os::Clock::now()).count()));
    lock.unlock();
    int n = ::poll(set.data(), set.size(), timeout);
    int error = errno;
    lock.lock();
    if (n < 0) {
        if (error == EINTR) return true;
        throw std::system_error(error, std::generic_category(), "poll");
    }
    if (m_close_by && os::Clock::now() >= *m_close_by) {
        m_words = fmt::format("{} did not end", m_name);
        return false;
    }
    if (m_mode == Mode::connecting && os::Clock::now() >= *m_connect_by) {
        // The hub never came: it stays on srun's channel (it gave up before this end did).
        m_mode = Mode::srun;
        m_listener.reset();
    }
    if (set.revents(wake_index) != 0) {
        std::uint64_t count;
        [[maybe_unused]] auto r = ::read(m_wake.get(), &count, sizeof count);
        for (auto [kind, id] : m_commands) {
            mux::append(m_to_hub, kind, id);
            // A killed worker's bytes are of no use to anyone any more.
            if (kind == mux::Kind::kill) m_slots.erase(id);
        }
        m_commands.clear();
        if (m_closing && !m_close_by) m_close_by = os::Clock::now() + 60s;
    }
    if (listen_index != SIZE_MAX && set.revents(listen_index) != 0) accept(lock);
    if (out_index != SIZE_MAX && set.revents(out_index) != 0) {
        std::string_view pending = m_to_hub;
        if (os::write_some(channel_out(), pending) == os::IoStatus::closed) return false;
        m_to_hub.erase(0, m_to_hub.size() - pending.size());
    }
    if (m_closing && !m_closed && (m_to_hub.empty() || !writing)) {
        // The pool is done: once the hub has the last frames, its channel
        // closes, and it stops its workers and ends.
        m_closed = true;
        m_to_step.reset();
        if (m_tcp) ::shutdown(m_tcp.get(), SHUT_WR);
    }
    for (auto [id, index] : reads) {
        auto it = m_slots.find(id);
        if (it == m_slots.end() || it->second.killed || set.revents(index) == 0) continue;
        auto& s = it->second;
        std::string data;
        auto status = os::read_some(s.from_pool.get(), data, k_read_size);
        if (!data.empty()) mux::append(m_to_hub, mux::Kind::data, id, data);
        if (status == os::IoStatus::closed) {
            // The pool closed the worker's input: the worker ends once idle.
            s.from_pool.reset();
            mux::append(m_to_hub, mux::Kind::shut, id);
        }
    }
    for (auto [id, index] : writes) {
        auto it = m_slots.find(id);
        if (it == m_slots.end() || set.revents(index) == 0) continue;
        auto& s = it->second;
        std::string_view pending = s.out;
        if (os::write_some(s.to_pool.get(), pending) == os::IoStatus::closed) pending = {};
        s.out.erase(0, s.out.size() - pending.size());
        if (s.out.empty() && s.ended) m_slots.erase(it);
    }
    if (err_index != SIZE_MAX && set.revents(err_index) != 0) {
        std::string data;
        if (os::read_some(m_err.get(), data, k_read_size) == os::IoStatus::closed) m_err.reset();
        m_stderr.feed(data);
    }
    if (step_index != SIZE_MAX && set.revents(step_index) != 0) {
        std::string ignored;
        if (os::read_some(m_from_step.get(), ignored, k_read_size) == os::IoStatus::closed) return false;
    }
    if (set.revents(in_index) != 0) {
        if (os::read_some(channel_in(), m_reader.buffer(), k_read_size) == os::IoStatus::closed) return false;
        while (auto frame = m_reader.next()) on_frame(*frame);
    }
    return true;
}

void HubLink::on_hello() {
    if (!m_listener) {
        m_mode = Mode::srun;
        return;
    }
    // The first bytes down the pipe: srun's stdin is empty, the write whole.
    std::string_view frame = m_token_frame;
    if (os::write_some(m_to_step.get(), frame) != os::IoStatus::done || !frame.empty()) {
        throw protocol::ProtocolError("the hub's channel took no connect frame");
    }
    m_mode = Mode::connecting;
    m_connect_by = os::Clock::now() + k_connect_wait;
}

void HubLink::accept(std::unique_lock<std::mutex>& lock) {
    os::Fd fd(::accept4(m_listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!fd) return;
    std::string shown(mux::k_token_size, '\0');
    // Anyone may knock: only the hub knows the token. Whoever is slow to show
    // one keeps no other thread from the link meanwhile.
    lock.unlock();
    bool shown_in_time = os::read_within(fd.get(), shown.data(), shown.size(), k_token_wait_ms);
    lock.lock();
    if (!shown_in_time || !same_token(shown, m_token) || m_mode != Mode::connecting || !m_listener) return;
    char ack = 1;
    if (::send(fd.get(), &ack, 1, MSG_NOSIGNAL) != 1) return;
    os::set_nodelay(fd.get());
    os::set_nonblocking(fd.get(), true);
    m_tcp = std::move(fd);
    m_listener.reset();
    m_mode = Mode::direct;
}

void HubLink::on_frame(const mux::Frame& f) {
    if (m_mode == Mode::greeting) {
        if (f.kind != mux::Kind::hello) throw protocol::ProtocolError("what runs on the node is no ppool hub");
        if (auto version = mux::decode_hello(f.payload); version != mux::k_version)
            throw protocol::ProtocolError(fmt::format("the node's ppool speaks hub version {}, this one {}", version,
                                                      mux::k_version));
        on_hello();
        return;
    }
    auto it = m_slots.find(f.id);
    switch (f.kind) {
    case mux::Kind::unconnected:
        if (m_mode == Mode::connecting) {
            m_mode = Mode::srun;
            m_listener.reset();
        }
        break;
    case mux::Kind::data:
        if (it != m_slots.end()) it->second.out.append(f.payload);
        break;
    case mux::Kind::ended: {
        auto [code, signal] = mux::decode_ended(f.payload);
        if (it == m_slots.end() || it->second.killed) break;
        it->second.ended = true;
        m_status[f.id] = os::ExitStatus{code, signal};
        m_ended.notify_all();
        // The pool hears the end of file once it has every byte.
        if (it->second.out.empty()) m_slots.erase(it);
        break;
    }
    default: throw protocol::ProtocolError("a hub frame the hub never sends");
    }
}

void HubLink::finish(std::unique_lock<std::mutex>& lock) {
    // Every worker of the step ends with it; the pool sees their channels close.
    m_to_step.reset();
    m_from_step.reset();
    m_tcp.reset();
    m_listener.reset();
    m_slots.clear();
    m_dead = true;
    lock.unlock();
    auto status = os::reap_by(m_pid, os::Clock::now() + 10s);
    if (!status) {
        os::signal_group(m_pid, SIGKILL);
        status = os::wait_for(m_pid);
    }
    // The step's last words: what it wrote on stderr.
    std::string rest;
    while (m_err && os::read_some(m_err.get(), rest, k_read_size) == os::IoStatus::done) {
    }
    lock.lock();
    m_stderr.feed(rest, true);
    m_step_status = *status;
    m_finished = true;
    m_ended.notify_all();
}

SlurmLauncher::SlurmLauncher(SlurmNode node, std::string ppool)
    : m_node(std::move(node)),
      m_argv{"srun",
             "--nodes=1",
             "--ntasks=1",
             "--exact",
             "--unbuffered",
             "--nodelist=" + m_node.name,
             "--cpus-per-task=" + std::to_string(m_node.cpus),
             "--job-name=ppool-hub",
             std::move(ppool),
             "worker",
             "--hub"},
      m_name("srun on " + m_node.name) {}

SlurmLauncher::~SlurmLauncher() = default;

worker::LaunchedWorker SlurmLauncher::launch() {
    if (!m_link || m_link->dead()) m_link = std::make_shared<HubLink>(m_argv, m_name);
    return m_link->open();
}

}  // namespace ppool::remote
