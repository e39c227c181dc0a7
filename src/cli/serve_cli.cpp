// `ppool serve`: a pool started once, its workers warm, used by many client commands.
#include "cli/serve_cli.hpp"

#include "cli/output.hpp"
#include "cli/serve_args.hpp"
#include "os/fd.hpp"
#include "os/signals.hpp"
#include "os/unix_socket.hpp"
#include "ppool/pool.hpp"
#include "server/client.hpp"
#include "server/server.hpp"
#include "worker/worker_loop.hpp"

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <system_error>
#include <unistd.h>

namespace ppool::cli {

namespace {

constexpr std::string_view k_serve_usage =
    "usage: ppool serve [-j N] [--initializer CMD | --init-task NAME [--initargs STR]] [--launcher CMD]\n"
    "                   [-S LOGIN]... [--sshloginfile FILE] [--ssh CMD] [--remote-ppool PATH]\n"
    "                   [--max-held N] [--socket PATH] [--foreground]\n"
    "Starts a pool whose workers stay warm for many commands (submit, get, wait,\n"
    "ready, successful, close, terminate, join, status), on a Unix socket only\n"
    "its user may use. Prints the socket's path once it accepts connections.\n"
    "  -j, --processes N    workers (default: the usable CPUs)\n"
    "  --initializer CMD    shell command each worker runs once at start\n"
    "  --init-task NAME     registered task each worker runs once at start\n"
    "  --initargs STR       the item --init-task runs on\n"
    "  --launcher CMD       how workers start: fork, exec, or a command (default:\n"
    "                       $PPOOL_LAUNCHER, else fork)\n"
    "  -S, --sshlogin LOGIN workers on other hosts, as the modes take it ([N/][user@]host),\n"
    "  --sshloginfile FILE  with --ssh CMD and --remote-ppool PATH as in the modes\n"
    "  --max-held N         jobs held at most, running or not fetched (default 10000)\n"
    "  --socket PATH        the socket (default: $XDG_RUNTIME_DIR/ppool/default.sock,\n"
    "                       else /tmp/ppool-UID/default.sock)\n"
    "  --foreground         stay attached to the terminal instead of detaching\n";

struct ServeOptions {
    PoolOptions pool;
    std::string socket;
    bool foreground = false;
    std::size_t max_held = server::k_max_held_jobs;
};

long whole_number(std::string_view option, const std::string& text, long most) {
    char* end = nullptr;
    long v = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || text.front() < '0' || text.front() > '9' || *end != '\0' || v < 1 || v > most)
        throw UsageError(fmt::format("{} takes a whole number from 1 to {}, not '{}'", option, most, text));
    return v;
}

int whole_processes(const std::string& text) { return static_cast<int>(whole_number("-j/--processes", text, 100000)); }

std::optional<ServeOptions> parse_serve(ServeArgs& args) {
    ServeOptions o;
    while (auto word = args.next()) {
        if (*word == "-h" || *word == "--help") {
            write_output(1, k_serve_usage);
            return std::nullopt;
        }
        if (*word == "-j" || *word == "--processes") o.pool.processes = whole_processes(args.value(*word));
        else if (word->starts_with("-j") && word->size() > 2) o.pool.processes = whole_processes(word->substr(2));
        else if (*word == "--initializer") o.pool.initializer_command = args.value(*word);
        else if (*word == "--init-task") o.pool.initializer = args.value(*word);
        else if (*word == "--initargs") o.pool.initargs = args.value(*word);
        else if (*word == "--socket") o.socket = args.value(*word);
        else if (*word == "--launcher") o.pool.launcher = args.value(*word);
        else if (*word == "-S" || *word == "--sshlogin") o.pool.sshlogins.push_back(args.value(*word));
        else if (*word == "--sshloginfile") o.pool.sshloginfile = args.value(*word);
        else if (*word == "--ssh") o.pool.ssh = args.value(*word);
        else if (*word == "--remote-ppool") o.pool.remote_ppool = args.value(*word);
        else if (*word == "--max-held")
            o.max_held = static_cast<std::size_t>(
                whole_number("--max-held", args.value(*word), static_cast<long>(server::k_max_held_jobs)));
        else if (*word == "--foreground") o.foreground = true;
        else throw UsageError(fmt::format("serve: unknown option '{}' (see ppool serve --help)", *word));
    }
    if (!o.pool.initializer.empty() && !o.pool.initializer_command.empty())
        throw UsageError("serve: give either --initializer CMD or --init-task NAME, not both");
    if (o.pool.launcher.empty())
        if (const char* launcher = std::getenv("PPOOL_LAUNCHER"); launcher && *launcher) o.pool.launcher = launcher;
    if (o.socket.empty()) o.socket = server::default_socket_path();
    return o;
}

/// Makes way for the server's socket: an error if a server is there, a
/// stale socket (nothing listens) is removed, anything else is left alone.
void claim_socket(const std::string& path) {
    if (os::probe_unix_socket(path) == os::SocketProbe::live)
        throw UsageError(fmt::format("a server is already listening on {}", path));
    // A new server: a join from now on waits for this one.
    ::unlink(server::ended_marker(path).c_str());
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return;
    if (!S_ISSOCK(st.st_mode)) throw UsageError(fmt::format("{} exists and is not a socket", path));
    ::unlink(path.c_str());
}

/// Removes the server's socket when the server ends, unless another has replaced it.
class SocketFile {
public:
    explicit SocketFile(std::string path) : m_path(std::move(path)) {
        struct stat st {};
        if (::lstat(m_path.c_str(), &st) == 0) m_inode = st.st_ino;
    }
    ~SocketFile() {
        struct stat st {};
        if (::lstat(m_path.c_str(), &st) == 0 && st.st_ino == m_inode) ::unlink(m_path.c_str());
    }
    SocketFile(const SocketFile&) = delete;
    SocketFile& operator=(const SocketFile&) = delete;

private:
    std::string m_path;
    ino_t m_inode = 0;
};

/// Leaves the file that tells a later join this server ended as asked: a
/// new file of this user's only, never through a link.
void leave_ended_marker(const std::string& socket) {
    auto path = server::ended_marker(socket);
    ::unlink(path.c_str());
    os::Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    // Best effort: without it a late join says there is no server.
    if (fd) [[maybe_unused]] auto n = ::write(fd.get(), "ended\n", 6);
}

/// Runs the server in this process; `ready` (-1: none) hears "ok" once it
/// accepts connections, and is then set to -1.
int serve_here(ServeOptions& o, int& ready) {
    os::SignalCatcher catcher{SIGINT, SIGTERM, SIGHUP};
    os::ignore_write_signals();
    // Forked workers know it from here, started ones from their own start.
    worker::register_lend_task();
    Pool pool(o.pool);
    // Every worker starts, and runs its initializer, before the first client
    // comes: the pool is warm, and a failing initializer is said here.
    pool.map("identity", std::vector<std::string>(static_cast<std::size_t>(pool.processes())), 1);
    claim_socket(o.socket);
    os::Fd listener;
    try {
        listener = os::listen_unix(o.socket);
    } catch (const std::system_error& e) {
        if (e.code().value() == EADDRINUSE) throw UsageError(fmt::format("a server is already listening on {}", o.socket));
        if (e.code().value() == ENAMETOOLONG) throw UsageError(fmt::format("socket path too long: {}", o.socket));
        throw UsageError(fmt::format("cannot listen on {}: {}", o.socket, e.code().message()));
    }
    SocketFile file(o.socket);
    // A lent worker connects to its client's socket: only workers of this machine can.
    const auto& launcher = o.pool.launcher;
    bool here = o.pool.sshlogins.empty() && o.pool.sshloginfile.empty() &&
                (launcher.empty() || launcher == "fork" || launcher == "exec");
    server::Server server(pool, std::move(listener), o.max_held, here);
    if (ready >= 0) {
        os::write_all(ready, "ok");
        ::close(ready);
        ready = -1;
    } else {
        write_output(1, o.socket + "\n");
    }
    server.run();
    // Ended as asked: a join that comes after it, or that connected as it
    // went, has nothing left to wait for. Said before the socket goes.
    leave_ended_marker(o.socket);
    return 0;
}

/// What the detached server said before it was ready: "ok", or why it stopped.
std::string read_all(int fd) {
    std::string text;
    std::array<char, 4096> buffer{};
    for (;;) {
        ssize_t n = ::read(fd, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return text;
        text.append(buffer.data(), static_cast<std::size_t>(n));
    }
}

/// Leaves the server running on its own (double fork, new session, stdio on
/// /dev/null) and returns once it accepts connections, or has failed.
int serve_detached(ServeOptions& o) {
    auto pipe = os::make_pipe();
    std::fflush(stdout);
    pid_t child = ::fork();
    if (child < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (child > 0) {
        pipe.write.reset();
        auto said = read_all(pipe.read.get());
        int status = 0;
        while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
        }
        if (said == "ok") {
            write_output(1, o.socket + "\n");
            return 0;
        }
        throw UsageError(said.empty() ? std::string("the server stopped before it was ready") : said);
    }
    pipe.read.reset();
    ::setsid();
    pid_t server = ::fork();
    if (server != 0) ::_exit(server < 0 ? 2 : 0);
    auto null = os::open_dev_null();
    for (int fd = 0; fd < 3; ++fd) ::dup2(null.get(), fd);
    int ready = pipe.write.release();
    try {
        ::_exit(serve_here(o, ready));
    } catch (const Interrupted& e) {
        ::_exit(128 + e.signo());
    } catch (const std::exception& e) {
        if (ready >= 0) {
            // Best effort: the parent reads it as the error to show.
            std::string_view what = e.what();
            [[maybe_unused]] auto n = ::write(ready, what.data(), what.size());
        }
        ::_exit(2);
    }
}

}  // namespace

bool is_server_command(std::string_view word) {
    for (std::string_view c : {"serve", "submit", "get", "wait", "ready", "successful", "close", "terminate", "join",
                               "status"})
        if (word == c) return true;
    return false;
}

int run_server_command(int argc, char** argv) {
    std::string_view command = argv[1];
    if (command != "serve") return run_client_command(command, argc, argv);
    ServeArgs args("serve", argc, argv, 2);
    auto o = parse_serve(args);
    if (!o) return 0;
    if (o->foreground) {
        int ready = -1;
        return serve_here(*o, ready);
    }
    // Said here, before detaching, where the user sees it.
    if (os::probe_unix_socket(o->socket) == os::SocketProbe::live)
        throw UsageError(fmt::format("a server is already listening on {}", o->socket));
    return serve_detached(*o);
}

}  // namespace ppool::cli
