// The client commands of `ppool serve`: submit, get, wait, ready,
// successful, close, terminate, join, status.
#include "cli/output.hpp"
#include "cli/serve_args.hpp"
#include "cli/serve_cli.hpp"
#include "os/signals.hpp"
#include "server/client.hpp"
#include "worker/command_template.hpp"

#include <cstdlib>
#include <sys/stat.h>
#include <unistd.h>
#include <fmt/format.h>

namespace ppool::cli {

namespace {

/// `get` and `wait` found no result within --timeout; the job stays.
constexpr int k_exit_timeout = 3;

constexpr std::string_view k_client_usage =
    "usage: ppool submit [--server PATH] -- CMD [ARGS...]   run a command once; prints its job id\n"
    "       ppool submit [--server PATH] --task NAME ITEM   run a registered task on ITEM\n"
    "       ppool get ID [--timeout S]      the result on stdout (exit 0), a failure on stderr (1),\n"
    "                                       nothing within S seconds (3); fetches the result\n"
    "       ppool wait ID [--timeout S]     waits until the job is ready (0), or S seconds (3)\n"
    "       ppool ready ID                  exit 0 if the job is ready, 1 if not\n"
    "       ppool successful ID             exit 0 if it succeeded, 1 if it failed, 2 if not ready\n"
    "       ppool close                     no more jobs; the server ends once all are fetched\n"
    "       ppool terminate                 stops the server and its jobs now\n"
    "       ppool join                      waits for every job (after close or terminate)\n"
    "       ppool status [--json]           workers, queued, running, finished not fetched\n"
    "Every command takes --server PATH (else PPOOL_SERVER, else the default socket).\n"
    "Exit status 4: the server went away while the command waited on it.\n";

struct ClientArgs {
    std::string server;
    std::optional<std::uint64_t> id;
    std::optional<double> timeout;
    bool json = false;
    std::string task;
    std::vector<std::string> words;
};

std::uint64_t job_id(const std::string& text) {
    char* end = nullptr;
    unsigned long long v = std::strtoull(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || text.front() < '0' || text.front() > '9' || v == 0)
        throw UsageError(fmt::format("'{}' is not a job id (submit prints them)", text));
    return v;
}

/// Reads the command's words; false when --help was asked.
bool parse(ServeArgs& args, ClientArgs& a) {
    std::string_view command = args.command();
    bool takes_id = command == "get" || command == "wait" || command == "ready" || command == "successful";
    bool takes_timeout = command == "get" || command == "wait";
    while (auto word = args.next()) {
        if (*word == "-h" || *word == "--help") return false;
        if (*word == "--server") a.server = args.value(*word);
        else if (*word == "--timeout" && takes_timeout) a.timeout = timeout_seconds(args.value(*word));
        else if (*word == "--json" && command == "status") a.json = true;
        else if ((*word == "--task" || *word == "-t") && command == "submit") a.task = args.value(*word);
        else if (*word == "--" && command == "submit") a.words = args.rest();
        else if (word->starts_with("-") && *word != "-")
            throw UsageError(fmt::format("{}: unknown option '{}' (see ppool {} --help)", command, *word, command));
        else if (takes_id && !a.id) a.id = job_id(*word);
        else if (command == "submit") {
            a.words.push_back(*word);
            for (auto& more : args.rest()) a.words.push_back(std::move(more));
        } else {
            throw UsageError(fmt::format("{}: unexpected argument '{}'", command, *word));
        }
    }
    if (takes_id && !a.id) throw UsageError(fmt::format("{} needs a job id: ppool {} ID", command, command));
    if (command == "submit") {
        if (!a.task.empty() && a.words.size() != 1) throw UsageError("submit --task NAME takes exactly one ITEM");
        if (a.task.empty() && a.words.empty()) throw UsageError("submit needs a command (-- CMD ARGS) or --task NAME ITEM");
    }
    return true;
}

server::Request request_of(std::string_view command, const ClientArgs& a) {
    using server::RequestKind;
    server::Request q;
    q.id = a.id.value_or(0);
    if (command == "submit") {
        if (!a.task.empty()) {
            q.kind = RequestKind::submit_task;
            q.task = a.task;
            q.item = a.words.front();
        } else {
            q.kind = RequestKind::submit_command;
            q.words = a.words;
            q.in_shell = worker::has_shell_operator(a.words);
        }
    } else if (command == "get") q.kind = RequestKind::get;
    else if (command == "wait") q.kind = RequestKind::wait;
    else if (command == "ready") q.kind = RequestKind::ready;
    else if (command == "successful") q.kind = RequestKind::successful;
    else if (command == "close") q.kind = RequestKind::close;
    else if (command == "terminate") q.kind = RequestKind::terminate;
    else if (command == "join") q.kind = RequestKind::join;
    else q.kind = RequestKind::status;
    return q;
}

int print_status(const server::ServerStatus& s, bool json) {
    if (json)
        write_output(1, fmt::format("{{\"workers\": {}, \"queued\": {}, \"running\": {}, \"finished_not_fetched\": {}, "
                                    "\"waiting_clients\": {}, \"lending\": {}, \"closed\": {}}}\n",
                                    s.workers, s.queued, s.running, s.finished, s.waiting, s.lending,
                                    s.closed ? "true" : "false"));
    else
        write_output(1, fmt::format("workers {}\nqueued {}\nrunning {}\nfinished-not-fetched {}\nwaiting-clients {}\n"
                                    "lending {}\nclosed {}\n",
                                    s.workers, s.queued, s.running, s.finished, s.waiting, s.lending,
                                    s.closed ? "yes" : "no"));
    return 0;
}

/// As ppool apply prints a result: the output on stdout, a command's stderr
/// on stderr, and for a failure one line saying why.
int print_result(std::uint64_t id, const server::Reply& reply) {
    write_output(1, reply.output);
    std::string err = reply.stderr_text;
    if (!reply.flag) {
        // The failure's line stands on a line of its own, after the command's stderr.
        if (!err.empty() && err.back() != '\n') err.push_back('\n');
        err += fmt::format("ppool: job {} failed: {}\n", id, reply.message);
    }
    write_output(2, err);
    return reply.flag ? 0 : 1;
}

/// Whether the server at `socket` ended as asked (close, terminate): it left
/// its marker, a file of this user's.
bool ended_as_asked(const std::string& socket) {
    struct stat st {};
    auto marker = server::ended_marker(socket);
    return ::lstat(marker.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == ::getuid();
}

int run(std::string_view command, const ClientArgs& a) {
    auto socket = server::client_socket_path(a.server);
    if (command == "join") {
        // As Python's join() after close() or terminate(): a server that
        // has ended as asked has nothing left to wait for, whether it ended
        // before this join came or while it waited.
        try {
            server::Connection connection(socket);
            connection.call(request_of(command, a));
            return 0;
        } catch (const server::ServerLost&) {
            if (ended_as_asked(socket)) return 0;
            throw;
        } catch (const UsageError&) {
            if (ended_as_asked(socket)) return 0;
            throw;
        }
    }
    server::Connection connection(socket);
    auto reply = connection.call(request_of(command, a), a.timeout);
    if (!reply) {
        write_output(2, fmt::format("ppool: job {}: not ready within {} seconds\n", *a.id, *a.timeout));
        return k_exit_timeout;
    }
    switch (reply->kind) {
    case server::ReplyKind::job: write_output(1, fmt::format("{}\n", reply->id)); return 0;
    case server::ReplyKind::result: return print_result(*a.id, *reply);
    case server::ReplyKind::flag: return reply->flag ? 0 : 1;
    case server::ReplyKind::status: return print_status(reply->status, a.json);
    default: return 0;
    }
}

}  // namespace

int run_client_command(std::string_view command, int argc, char** argv) {
    ServeArgs args(std::string(command), argc, argv, 2);
    ClientArgs a;
    if (!parse(args, a)) {
        write_output(1, k_client_usage);
        return 0;
    }
    // A reply cut short by a closed stdout is not the server's doing.
    os::ignore_write_signals();
    try {
        return run(command, a);
    } catch (const server::ServerLost& e) {
        write_output(2, fmt::format("ppool: {}\n", e.what()));
        return k_exit_server_lost;
    }
}

}  // namespace ppool::cli
