#include "server/server.hpp"

#include "os/unix_socket.hpp"
#include "ppool/task.hpp"
#include "worker/worker_loop.hpp"

#include <fmt/format.h>
#include <unistd.h>

namespace ppool::server {

namespace {

/// Bytes read from a client in one go.
constexpr std::size_t k_read_bytes = 64 << 10;

template <class Job>
std::size_t held_bytes(const Job& job) {
    return job.output.size() + job.stderr_text.size() + job.error.size();
}

}  // namespace

Server::Server(Pool& pool, os::Fd listener, std::size_t max_held, bool lends)
    : m_pool(pool), m_listener(std::move(listener)), m_max_held(max_held), m_lends(lends) {
    os::set_nonblocking(m_listener.get(), true);
    m_pool.watch(m_listener.get(), [this] { accept(); });
}

Server::~Server() {
    for (const auto& [id, client] : m_clients) m_pool.unwatch(client.fd.get());
    m_pool.unwatch(m_listener.get());
}

void Server::run() {
    m_pool.run_until([this] { return m_terminated || drained(); });
    if (m_terminated) {
        // Nothing more will finish: every waiter hears so now.
        std::vector<std::uint64_t> unfinished;
        for (const auto& [id, job] : m_jobs)
            if (!job.finished) unfinished.push_back(id);
        // A job its waiter fetches is forgotten: the ids are taken first.
        TaskResult terminated;
        terminated.error = "the pool was terminated";
        for (auto id : unfinished) finish(id, terminated);
        // The last replies go out before the server does, to whoever still reads.
        for (auto& [id, c] : m_clients)
            if (c.out_at < c.out.size()) os::send_all(c.fd.get(), std::string_view(c.out).substr(c.out_at), 1000);
        return;
    }
    m_pool.close();
    m_pool.join();
}

bool Server::drained() const { return m_closed && m_jobs.empty() && m_joiners.empty() && m_unsent_bytes == 0; }

void Server::accept() {
    while (auto fd = os::accept_unix(m_listener.get())) {
        auto id = m_next_client++;
        int raw = fd->get();
        m_clients[id].fd = std::move(*fd);
        // Only the user who started the server may use it, whatever the socket's mode says.
        if (os::peer_uid(raw) != ::getuid()) {
            send_error(id, "this server belongs to another user");
            drop(id);
            continue;
        }
        os::set_nonblocking(raw, true);
        m_pool.watch(raw, [this, id] { on_client(id); });
    }
}

void Server::on_client(std::uint64_t id) {
    if (flush(id)) read_client(id);
}

void Server::read_client(std::uint64_t id) {
    auto found = m_clients.find(id);
    if (found == m_clients.end()) return;
    auto& client = found->second;
    auto status = os::IoStatus::done;
    try {
        status = os::read_some(client.fd.get(), client.frames.buffer(), k_read_bytes);
    } catch (const std::system_error&) {
        status = os::IoStatus::closed;
    }
    if (status == os::IoStatus::closed) return drop(id);
    try {
        // A request may drop its own client (a reply it cannot take): look it up again each time.
        while (m_clients.contains(id)) {
            auto frame = client.frames.next();
            if (!frame) break;
            auto request = decode_request(frame->kind, frame->payload);
            handle(id, request);
        }
    } catch (const ClientProtocolError& e) {
        // The stream cannot be trusted past a malformed frame: the client is told and let go.
        send_error(id, fmt::format("malformed request: {}", e.what()));
        drop(id);
    }
}

void Server::handle(std::uint64_t client, const Request& q) {
    auto& c = m_clients.at(client);
    if (!c.greeted) {
        if (q.kind != RequestKind::hello) throw ClientProtocolError("the first request is not a hello");
        if (q.version != k_client_protocol_version) {
            send_error(client, fmt::format("this server speaks client protocol version {}, the client version {}",
                                           k_client_protocol_version, q.version));
            return drop(client);
        }
        c.greeted = true;
        Reply welcome;
        welcome.kind = ReplyKind::welcome;
        welcome.version = k_client_protocol_version;
        return send(client, welcome);
    }
    Reply done;
    switch (q.kind) {
    case RequestKind::hello: throw ClientProtocolError("a second hello");
    case RequestKind::submit_command:
    case RequestKind::submit_task: return submit(client, q);
    case RequestKind::lend: return lend(client, q);
    case RequestKind::get:
    case RequestKind::wait:
    case RequestKind::ready:
    case RequestKind::successful: return ask_job(client, q);
    case RequestKind::close:
        m_closed = true;
        return send(client, done);
    case RequestKind::terminate:
        m_terminated = true;
        m_pool.terminate();
        return send(client, done);
    case RequestKind::join:
        if (!m_closed) return send_error(client, "join needs close or terminate first: ppool close");
        m_joiners.push_back(client);
        return answer_joiners();
    case RequestKind::status: {
        Reply reply;
        reply.kind = ReplyKind::status;
        reply.status = status();
        return send(client, reply);
    }
    }
}

void Server::submit(std::uint64_t client, const Request& q) {
    if (m_closed) return send_error(client, "the server is closed: it takes no more jobs");
    if (m_jobs.size() >= m_max_held || m_held_bytes + m_unsent_bytes >= k_max_held_bytes)
        return send_error(client, fmt::format("the server holds {} jobs and {} bytes of results not fetched (at most "
                                              "{} and {}): fetch some with ppool get first",
                                              m_jobs.size(), m_held_bytes + m_unsent_bytes, m_max_held,
                                              k_max_held_bytes));
    std::string task;
    std::string item;
    try {
        if (q.kind == RequestKind::submit_task) {
            const TaskInfo* info = TaskRegistry::global().find(q.task);
            if (!info || info->is_command()) return send_error(client, fmt::format("unknown task '{}'", q.task));
            task = q.task;
            item = q.item;
        } else {
            task = command_task(q);
        }
        auto id = m_next_job++;
        // The callback runs in a later turn of the pool, never from inside this call.
        m_pool.apply_async(task, std::move(item), [this, id](const TaskResult& result) { finish(id, result); });
        m_jobs.emplace(id, Job{});
        ++m_unfinished;
        Reply reply;
        reply.kind = ReplyKind::job;
        reply.id = id;
        send(client, reply);
    } catch (const Error& e) {
        send_error(client, e.what());
    }
}

void Server::lend(std::uint64_t client, const Request& q) {
    if (!m_lends)
        return send_error(client, "this server's workers are not all on this machine (-S, or a launcher command): "
                                  "--server borrows only workers started with fork or exec");
    if (m_closed || m_terminated) return send_error(client, "the server is closed: it lends no more workers");
    try {
        // One request at a time: the lends of one client are queued together, behind those before.
        auto count = std::min<std::uint64_t>(q.id, static_cast<std::uint64_t>(m_pool.processes()));
        for (std::uint64_t i = 0; i < count; ++i)
            m_pool.apply_async(std::string(worker::k_lend_task), q.item, [this](const TaskResult&) {
                // A lend that failed (the client went first) leaves the worker as it was; a lent worker
                // killed by its client (a timeout) is replaced by the pool.
                --m_lending;
            });
        m_lending += count;
        send(client, Reply{});
    } catch (const Error& e) {
        send_error(client, e.what());
    }
}

std::string Server::command_task(const Request& q) {
    std::string identity = q.in_shell ? "shell\n" : "words\n";
    identity.append(q.shell).push_back('\0');
    for (const auto& word : q.words) identity.append(word).push_back('\0');
    if (auto found = m_commands.find(identity); found != m_commands.end()) return found->second;
    auto name = fmt::format("serve-command-{}", m_commands.size() + 1);
    CommandLine line{q.words, false};
    line.in_shell = q.in_shell;
    line.shell = q.shell;
    TaskRegistry::global().add_command(name, "a submitted command", std::move(line));
    m_commands.emplace(std::move(identity), name);
    return name;
}

void Server::ask_job(std::uint64_t client, const Request& q) {
    auto found = m_jobs.find(q.id);
    if (found == m_jobs.end())
        return send_error(client, fmt::format("no job {} (unknown, or its result was fetched already)", q.id));
    auto& job = found->second;
    if (!job.finished) {
        Reply reply;
        switch (q.kind) {
        case RequestKind::ready:
            reply.kind = ReplyKind::flag;
            return send(client, reply);
        case RequestKind::successful: return send_error(client, fmt::format("job {} is not ready", q.id));
        default: job.waiters.push_back(Waiter{client, q.kind}); return;
        }
    }
    if (answer(client, q.kind, job)) {
        m_held_bytes -= held_bytes(job);
        m_jobs.erase(found);
    }
}

bool Server::answer(std::uint64_t client, RequestKind kind, const Job& job) {
    Reply reply;
    switch (kind) {
    case RequestKind::get:
        reply.kind = ReplyKind::result;
        reply.flag = job.ok;
        // A large output stays on disk while held, and is read as it goes out.
        reply.output = job.large_output ? job.large_output->read_all() : job.output;
        // A registered task's result ends with a newline, as ppool apply prints it.
        if (job.ok && !job.is_command && !reply.output.ends_with('\n')) reply.output.push_back('\n');
        reply.stderr_text = job.large_stderr ? job.large_stderr->read_all() : job.stderr_text;
        reply.message = job.error;
        send(client, reply);
        return true;
    case RequestKind::ready:
    case RequestKind::successful:
        reply.kind = ReplyKind::flag;
        reply.flag = kind == RequestKind::ready || job.ok;
        send(client, reply);
        return false;
    default: send(client, reply); return false;
    }
}

void Server::finish(std::uint64_t id, const TaskResult& result) {
    auto found = m_jobs.find(id);
    if (found == m_jobs.end() || found->second.finished) return;
    auto& job = found->second;
    job.finished = true;
    job.ok = result.ok();
    job.large_output = result.large_output;
    job.large_stderr = result.large_stderr;
    if (!job.large_output) job.output = result.output;
    job.is_command = result.is_command;
    if (!job.large_stderr) job.stderr_text = result.stderr_text;
    if (!job.ok) job.error = result.describe_failure();
    m_held_bytes += held_bytes(job);
    --m_unfinished;
    bool fetched = false;
    for (const auto& waiter : job.waiters)
        if (m_clients.contains(waiter.client)) fetched = answer(waiter.client, waiter.kind, job) || fetched;
    job.waiters.clear();
    if (fetched) {
        m_held_bytes -= held_bytes(job);
        m_jobs.erase(found);
    }
    answer_joiners();
}

void Server::answer_joiners() {
    if (m_unfinished > 0 || m_joiners.empty()) return;
    auto joiners = std::move(m_joiners);
    m_joiners.clear();
    for (auto client : joiners)
        if (m_clients.contains(client)) send(client, Reply{});
}

ServerStatus Server::status() const {
    ServerStatus s;
    s.workers = static_cast<std::uint64_t>(m_pool.processes());
    s.running = std::min<std::uint64_t>(static_cast<std::uint64_t>(m_pool.running()), m_unfinished);
    s.queued = m_unfinished - s.running;
    s.finished = m_jobs.size() - m_unfinished;
    s.closed = m_closed;
    for (const auto& [id, job] : m_jobs)
        for (const auto& waiter : job.waiters) s.waiting += m_clients.contains(waiter.client) ? 1 : 0;
    for (auto client : m_joiners) s.waiting += m_clients.contains(client) ? 1 : 0;
    s.lending = m_lending;
    return s;
}

void Server::send(std::uint64_t client, const Reply& reply) {
    auto found = m_clients.find(client);
    if (found == m_clients.end()) return;
    auto& c = found->second;
    auto before = c.out.size();
    encode_reply(c.out, reply);
    m_unsent_bytes += c.out.size() - before;
    flush(client);
}

bool Server::flush(std::uint64_t id) {
    auto found = m_clients.find(id);
    if (found == m_clients.end()) return false;
    auto& c = found->second;
    if (c.out_at == c.out.size()) return true;
    std::vector<std::string_view> pieces{std::string_view(c.out).substr(c.out_at)};
    std::size_t index = 0, offset = 0;
    auto status = os::IoStatus::done;
    try {
        status = os::send_pieces(c.fd.get(), pieces, index, offset);
    } catch (const std::system_error&) {
        status = os::IoStatus::closed;
    }
    if (status == os::IoStatus::closed) {
        drop(id);
        return false;
    }
    c.out_at += index == 1 ? pieces[0].size() : offset;
    m_unsent_bytes -= index == 1 ? pieces[0].size() : offset;
    bool left = c.out_at < c.out.size();
    if (!left) {
        c.out.clear();
        c.out_at = 0;
    }
    if (left != c.watched_for_writing) {
        c.watched_for_writing = left;
        if (left) m_pool.watch_writable(c.fd.get(), [this, id] { on_client(id); });
        else m_pool.watch(c.fd.get(), [this, id] { on_client(id); });
    }
    return true;
}

void Server::send_error(std::uint64_t client, std::string message) {
    Reply reply;
    reply.kind = ReplyKind::error;
    reply.message = std::move(message);
    send(client, reply);
}

void Server::drop(std::uint64_t client) {
    auto found = m_clients.find(client);
    if (found == m_clients.end()) return;
    m_pool.unwatch(found->second.fd.get());
    m_unsent_bytes -= found->second.out.size() - found->second.out_at;
    m_clients.erase(found);
}

}  // namespace ppool::server
