#include "os/unix_socket.hpp"

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <system_error>
#include <unistd.h>

namespace ppool::os {

namespace {

[[noreturn]] void fail(const char* call, int error = errno) {
    throw std::system_error(error, std::generic_category(), call);
}

sockaddr_un address_of(const std::string& path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof address.sun_path) fail("socket address", ENAMETOOLONG);
    std::memcpy(address.sun_path, path.data(), path.size());
    return address;
}

Fd stream_socket() {
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) fail("socket");
    return fd;
}

}  // namespace

SocketProbe probe_unix_socket(const std::string& path) {
    try {
        connect_unix(path);
        return SocketProbe::live;
    } catch (const std::system_error& e) {
        if (e.code().value() == ENAMETOOLONG) throw;
        return SocketProbe::absent;
    }
}

Fd listen_unix(const std::string& path) {
    auto address = address_of(path);
    auto fd = stream_socket();
    // The socket file is its owner's alone from the start, wherever it is made.
    auto mask = ::umask(077);
    int bound = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address);
    int error = errno;
    ::umask(mask);
    if (bound != 0) fail("bind", error);
    if (::listen(fd.get(), 512) != 0) fail("listen");
    return fd;
}

std::optional<Fd> accept_unix(int listener) {
    int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) return Fd(fd);
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED) return std::nullopt;
    fail("accept4");
}

Fd connect_unix(const std::string& path) {
    auto address = address_of(path);
    auto fd = stream_socket();
    while (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
        if (errno != EINTR) fail("connect");
    return fd;
}

uid_t peer_uid(int fd) {
    ucred cred{};
    socklen_t size = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &size) != 0) fail("getsockopt SO_PEERCRED");
    return cred.uid;
}

pid_t peer_pid(int fd) {
    ucred cred{};
    socklen_t size = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &size) != 0) fail("getsockopt SO_PEERCRED");
    return cred.pid;
}

namespace {

/// One byte of data and room for one descriptor: what send_fd sends.
struct FdMessage {
    char byte = 'f';
    iovec iov{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    FdMessage() {
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
    }
    FdMessage(const FdMessage&) = delete;
    FdMessage& operator=(const FdMessage&) = delete;
};

}  // namespace

void send_fd(int socket, int fd) {
    FdMessage m;
    auto& msg = m.msg;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
    while (::sendmsg(socket, &msg, MSG_NOSIGNAL) < 0)
        if (errno != EINTR) fail("sendmsg SCM_RIGHTS");
}

std::optional<Fd> receive_fd(int socket) {
    FdMessage m;
    auto& msg = m.msg;
    ssize_t n;
    while ((n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC)) < 0)
        if (errno != EINTR) fail("recvmsg SCM_RIGHTS");
    if (n == 0) return std::nullopt;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int))) continue;
        int fd = -1;
        std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
        return Fd(fd);
    }
    return std::nullopt;
}

bool send_all(int fd, std::string_view data, int timeout_ms) {
    while (!data.empty()) {
        ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            data.remove_prefix(static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pollfd p{fd, POLLOUT, 0};
            int ready = ::poll(&p, 1, timeout_ms);
            if (ready < 0 && errno == EINTR) continue;
            if (ready <= 0 || (p.revents & (POLLERR | POLLHUP))) return false;
            continue;
        }
        return false;
    }
    return true;
}

std::string make_private_socket_dir(const std::string& dir) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        return "cannot make " + dir + ": " + std::strerror(errno);
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) return "cannot use " + dir + ": " + std::strerror(errno);
    if (!S_ISDIR(st.st_mode)) return dir + " is not a directory";
    if (st.st_uid != ::getuid()) return dir + " belongs to another user";
    if ((st.st_mode & 07777) != 0700) return dir + " is open to other users (its mode is not 0700)";
    return {};
}

}  // namespace ppool::os
