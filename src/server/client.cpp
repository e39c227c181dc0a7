#include "server/client.hpp"

#include "os/event_loop.hpp"
#include "os/unix_socket.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <poll.h>
#include <system_error>
#include <unistd.h>

namespace ppool::server {

namespace {

/// Bytes read from the server in one go.
constexpr std::size_t k_read_bytes = 256 << 10;

std::string private_dir(const std::string& dir) {
    auto problem = os::make_private_socket_dir(dir);
    if (!problem.empty()) throw UsageError(problem + "; choose a socket with --socket (serve) or --server");
    return dir;
}

}  // namespace

std::string default_socket_path() {
    if (const char* runtime = std::getenv("XDG_RUNTIME_DIR"); runtime && *runtime == '/')
        return private_dir(std::string(runtime) + "/ppool") + "/default.sock";
    return private_dir(fmt::format("/tmp/ppool-{}", ::getuid())) + "/default.sock";
}

std::string ended_marker(const std::string& socket) { return socket + ".ended"; }

std::string client_socket_path(const std::string& given) {
    if (!given.empty()) return given;
    if (const char* server = std::getenv("PPOOL_SERVER"); server && *server) return server;
    return default_socket_path();
}

Connection::Connection(std::string path) : m_path(std::move(path)) {
    try {
        m_fd = os::connect_unix(m_path);
    } catch (const std::system_error& e) {
        if (e.code().value() == ENAMETOOLONG) throw UsageError(fmt::format("socket path too long: {}", m_path));
        throw UsageError(fmt::format("no server at {} ({}); start one with ppool serve", m_path,
                                     std::strerror(e.code().value())));
    }
    Request hello;
    hello.version = k_client_protocol_version;
    auto reply = call(hello);
    if (reply->kind != ReplyKind::welcome)
        throw UsageError(fmt::format("{} is not a ppool server", m_path));
}

std::optional<Reply> Connection::call(const Request& request, std::optional<double> timeout) {
    std::string out;
    encode_request(out, request);
    // A server that refused this client may have closed already: its reply is still there to read.
    os::send_all(m_fd.get(), out, -1);
    auto reply = receive(timeout);
    if (reply && reply->kind == ReplyKind::error) throw UsageError(reply->message);
    return reply;
}

std::optional<Reply> Connection::receive(std::optional<double> timeout) {
    auto deadline = timeout ? std::optional(os::Clock::now() + os::seconds(*timeout)) : std::nullopt;
    auto lost = [&] { return ServerLost(fmt::format("the server at {} went away before it answered", m_path)); };
    for (;;) {
        try {
            if (auto frame = m_frames.next()) return decode_reply(frame->kind, frame->payload);
        } catch (const ClientProtocolError& e) {
            throw ServerLost(fmt::format("the server at {} sent a malformed reply: {}", m_path, e.what()));
        }
        int wait_ms = -1;
        if (deadline) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - os::Clock::now()).count();
            if (left <= 0) return std::nullopt;
            wait_ms = static_cast<int>(std::min<long long>(left, 1 << 30));
        }
        pollfd p{m_fd.get(), POLLIN, 0};
        int ready = ::poll(&p, 1, wait_ms);
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) throw std::system_error(errno, std::generic_category(), "poll");
        if (ready == 0) continue;
        auto& buffer = m_frames.buffer();
        auto size = buffer.size();
        buffer.resize(size + k_read_bytes);
        ssize_t n = ::read(m_fd.get(), buffer.data() + size, k_read_bytes);
        buffer.resize(size + static_cast<std::size_t>(n > 0 ? n : 0));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw lost();
    }
}

}  // namespace ppool::server
