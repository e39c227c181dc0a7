#include "os/tcp.hpp"

#include "os/event_loop.hpp"

#include <cerrno>
#include <cstring>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <system_error>
#include <unistd.h>

namespace ppool::os {

Listener listen_tcp() {
    Listener l;
    l.fd = Fd(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (l.fd) {
        int off = 0;
        ::setsockopt(l.fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
        sockaddr_in6 any{};
        any.sin6_family = AF_INET6;
        any.sin6_addr = in6addr_any;
        if (::bind(l.fd.get(), reinterpret_cast<sockaddr*>(&any), sizeof any) != 0) l.fd.reset();
    }
    if (!l.fd) {
        // No IPv6 here: IPv4 alone.
        l.fd = Fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        if (!l.fd) throw std::system_error(errno, std::generic_category(), "socket");
        sockaddr_in any{};
        any.sin_family = AF_INET;
        any.sin_addr.s_addr = htonl(INADDR_ANY);
        if (::bind(l.fd.get(), reinterpret_cast<sockaddr*>(&any), sizeof any) != 0)
            throw std::system_error(errno, std::generic_category(), "bind");
    }
    if (::listen(l.fd.get(), 8) != 0) throw std::system_error(errno, std::generic_category(), "listen");
    sockaddr_storage bound{};
    socklen_t size = sizeof bound;
    if (::getsockname(l.fd.get(), reinterpret_cast<sockaddr*>(&bound), &size) != 0)
        throw std::system_error(errno, std::generic_category(), "getsockname");
    l.port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                               : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    return l;
}

Fd connect_tcp(const std::string& address, std::uint16_t port, int timeout_ms, std::string& error) {
    addrinfo hints{};
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (int e = ::getaddrinfo(address.c_str(), std::to_string(port).c_str(), &hints, &found); e != 0) {
        error = "'" + address + "': " + ::gai_strerror(e);
        return {};
    }
    Fd fd(::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) {
        error = std::strerror(errno);
        ::freeaddrinfo(found);
        return {};
    }
    int r = ::connect(fd.get(), found->ai_addr, found->ai_addrlen);
    ::freeaddrinfo(found);
    if (r != 0 && errno != EINPROGRESS) {
        error = std::strerror(errno);
        return {};
    }
    if (r != 0) {
        pollfd p{fd.get(), POLLOUT, 0};
        int n;
        while ((n = ::poll(&p, 1, timeout_ms)) < 0 && errno == EINTR) {
        }
        int soerror = 0;
        socklen_t len = sizeof soerror;
        if (n <= 0) {
            error = n == 0 ? "timed out" : std::strerror(errno);
            return {};
        }
        ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &soerror, &len);
        if (soerror != 0) {
            error = std::strerror(soerror);
            return {};
        }
    }
    set_nonblocking(fd.get(), false);
    set_nodelay(fd.get());
    return fd;
}

void set_nodelay(int fd) {
    int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

bool read_within(int fd, char* out, std::size_t size, int timeout_ms) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    std::size_t got = 0;
    while (got < size) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return false;
        pollfd p{fd, POLLIN, 0};
        int n = ::poll(&p, 1, static_cast<int>(left));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        ssize_t r = ::read(fd, out + got, size - got);
        if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (r <= 0) return false;
        got += static_cast<std::size_t>(r);
    }
    return true;
}

}  // namespace ppool::os
