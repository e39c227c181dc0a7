#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "os/fd.hpp"
#include "ppool/pool.hpp"
#include "server/client_protocol.hpp"

namespace ppool::server {

/// Jobs held at most by default (serve --max-held), counting those still
/// running and those not fetched: a submit beyond it is refused until some are fetched.
inline constexpr std::size_t k_max_held_jobs = 10000;
/// Bytes of results (outputs and errors) kept for fetching at most: past
/// it, a submit is refused until some are fetched.
inline constexpr std::size_t k_max_held_bytes = 256u << 20;

/// `ppool serve`: a pool's warm workers shared by clients on a Unix socket.
/// One thread: the pool's loop watches the listening socket and every
/// client, so a client is served between two turns of the pool, never blocked on.
class Server {
public:
    /// Serves on `listener` (listening already); the pool's workers run the
    /// jobs, at most `max_held` held at once (running or not fetched). With
    /// `lends`, the workers (all on this machine) are lent to clients' pools.
    Server(Pool& pool, os::Fd listener, std::size_t max_held = k_max_held_jobs, bool lends = true);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Serves until terminated, or closed with every job finished and every
    /// result fetched. Throws Interrupted on a caught signal.
    void run();

private:
    struct Client {
        os::Fd fd;
        FrameSplitter frames{k_max_request_bytes};
        bool greeted = false;
        std::string out;          ///< replies the client has not taken yet
        std::size_t out_at = 0;   ///< how much of `out` is sent
        bool watched_for_writing = false;
    };
    struct Waiter {
        std::uint64_t client = 0;
        RequestKind kind = RequestKind::get;
    };
    struct Job {
        bool finished = false;
        bool ok = false;
        bool is_command = false;
        std::string output;
        std::string stderr_text;
        // Outputs too large for the pool's memory: on disk (a spill file) while held.
        std::shared_ptr<const LargeOutput> large_output;
        std::shared_ptr<const LargeOutput> large_stderr;
        std::string error;
        std::vector<Waiter> waiters;
    };

    void accept();
    /// The client's descriptor is ready: sends what waits, reads what came.
    void on_client(std::uint64_t id);
    void read_client(std::uint64_t id);
    /// Sends what the client takes without blocking; watches it for
    /// writing while some is left. False if the client went away.
    bool flush(std::uint64_t id);
    void handle(std::uint64_t client, const Request& request);
    void submit(std::uint64_t client, const Request& request);
    void lend(std::uint64_t client, const Request& request);
    void ask_job(std::uint64_t client, const Request& request);
    /// The name of the registered command task for the request's command, added once per distinct command.
    std::string command_task(const Request& request);
    /// Records a job's result and answers its waiters.
    void finish(std::uint64_t job, const TaskResult& result);
    /// Answers a waiter of a finished job; true if the job was fetched by it.
    bool answer(std::uint64_t client, RequestKind kind, const Job& job);
    void answer_joiners();
    /// Queues a reply and sends what the client takes now: a client that
    /// reads slowly, or not at all, never holds up the others.
    void send(std::uint64_t client, const Reply& reply);
    void send_error(std::uint64_t client, std::string message);
    void drop(std::uint64_t client);
    ServerStatus status() const;
    bool drained() const;

    Pool& m_pool;
    os::Fd m_listener;
    std::map<std::uint64_t, Client> m_clients;
    std::map<std::uint64_t, Job> m_jobs;
    std::map<std::string, std::string> m_commands;  // identity of a command -> its task's name
    std::vector<std::uint64_t> m_joiners;
    std::uint64_t m_next_client = 1;
    std::uint64_t m_next_job = 1;
    std::size_t m_max_held;
    std::size_t m_held_bytes = 0;
    std::size_t m_unsent_bytes = 0;  // replies queued for clients, results among them
    std::size_t m_unfinished = 0;
    bool m_closed = false;
    bool m_terminated = false;
    bool m_lends = true;
    std::uint64_t m_lending = 0;  // lends asked for and not ended
};

}  // namespace ppool::server
