#include "os/fd.hpp"

#include <algorithm>
#include <cerrno>
#include <memory>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <system_error>
#include <unistd.h>

namespace ppool::os {

namespace {

[[noreturn]] void throw_errno(const char* call) {
    throw std::system_error(errno, std::generic_category(), call);
}

}  // namespace

Fd& Fd::operator=(Fd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
}

int Fd::release() noexcept {
    int fd = m_fd;
    m_fd = -1;
    return fd;
}

void Fd::reset(int fd) noexcept {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = fd;
}

Pipe make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno("pipe2");
    return Pipe{Fd(fds[0]), Fd(fds[1])};
}

Fd duplicate(int fd) {
    int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (copy < 0) throw_errno("fcntl(F_DUPFD_CLOEXEC)");
    return Fd(copy);
}

void set_nonblocking(int fd, bool on) {
    int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0) throw_errno("fcntl(F_GETFL)");
    int wanted = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
    if (wanted != flags && ::fcntl(fd, F_SETFL, wanted) != 0) throw_errno("fcntl(F_SETFL)");
}

void set_nonblocking_fresh(int fd) {
    if (::fcntl(fd, F_SETFL, O_NONBLOCK) != 0) throw_errno("fcntl(F_SETFL)");
}

Pipe make_socket_channel() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) throw_errno("socketpair");
    // One way only: the reader never writes, the writer never reads.
    ::shutdown(fds[0], SHUT_WR);
    ::shutdown(fds[1], SHUT_RD);
    int size = 1 << 20;
    ::setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    return Pipe{Fd(fds[0]), Fd(fds[1])};
}

IoStatus send_pieces(int fd, const std::vector<std::string_view>& pieces, std::size_t& index, std::size_t& offset) {
    constexpr std::size_t k_max_iov = 64;
    while (index < pieces.size()) {
        iovec iov[k_max_iov];
        std::size_t n_iov = 0;
        for (std::size_t i = index; i < pieces.size() && n_iov < k_max_iov; ++i) {
            std::size_t skip = i == index ? offset : 0;
            iov[n_iov++] = iovec{const_cast<char*>(pieces[i].data()) + skip, pieces[i].size() - skip};
        }
        msghdr msg{};
        msg.msg_iov = iov;
        msg.msg_iovlen = n_iov;
        ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return IoStatus::would_block;
            if (errno == EPIPE || errno == ECONNRESET) return IoStatus::closed;
            throw_errno("sendmsg");
        }
        auto sent = static_cast<std::size_t>(n);
        while (index < pieces.size() && sent >= pieces[index].size() - offset) {
            sent -= pieces[index].size() - offset;
            ++index;
            offset = 0;
        }
        offset += sent;
    }
    return IoStatus::done;
}

IoStatus read_some(int fd, std::string& out, std::size_t max) {
    // Read into a scratch buffer and append what came: growing `out` by `max`
    // first would zero-fill all of it on every read, most often to keep a few bytes.
    thread_local std::unique_ptr<char[]> scratch;
    thread_local std::size_t scratch_size = 0;
    if (scratch_size < max) {
        scratch.reset(new char[max]);
        scratch_size = max;
    }
    for (;;) {
        ssize_t n = ::read(fd, scratch.get(), max);
        if (n > 0) {
            out.append(scratch.get(), static_cast<std::size_t>(n));
            return IoStatus::done;
        }
        if (n == 0) return IoStatus::closed;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return IoStatus::would_block;
        throw_errno("read");
    }
}

IoStatus write_some(int fd, std::string_view& data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n >= 0) {
            data.remove_prefix(static_cast<std::size_t>(n));
            continue;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return IoStatus::would_block;
        if (errno == EPIPE) return IoStatus::closed;
        throw_errno("write");
    }
    return IoStatus::done;
}

void write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_errno("write");
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

void write_all(int fd, std::string_view head, std::string_view tail) {
    while (!head.empty() || !tail.empty()) {
        iovec iov[2] = {{const_cast<char*>(head.data()), head.size()}, {const_cast<char*>(tail.data()), tail.size()}};
        int first = head.empty() ? 1 : 0;
        ssize_t n = ::writev(fd, iov + first, 2 - first);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_errno("writev");
        }
        auto done = static_cast<std::size_t>(n);
        auto from_head = std::min(done, head.size());
        head.remove_prefix(from_head);
        tail.remove_prefix(done - from_head);
    }
}

bool read_exact(int fd, char* out, std::size_t size) {
    std::size_t got = 0;
    while (got < size) {
        ssize_t n = ::read(fd, out + got, size - got);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_errno("read");
        }
        if (n == 0) {
            if (got == 0) return false;
            throw std::system_error(EPIPE, std::generic_category(), "read: truncated record");
        }
        got += static_cast<std::size_t>(n);
    }
    return true;
}

Fd open_dev_null() {
    int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd < 0) throw_errno("open(/dev/null)");
    return Fd(fd);
}

bool wait_for_hangup(int fd, int timeout_ms) {
    // POLLRDHUP for a socket; a pipe reports POLLHUP unasked. Data waiting to
    // be read wakes nothing: POLLIN is not asked for.
    pollfd p{fd, POLLRDHUP, 0};
    int n = ::poll(&p, 1, timeout_ms);
    if (n < 0 && errno != EINTR) throw_errno("poll");
    return n > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

IoStatus discard_available(int fd) {
    char buffer[4096];
    for (;;) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n > 0) continue;
        if (n == 0) return IoStatus::closed;
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return IoStatus::would_block;
        throw std::system_error(errno, std::generic_category(), "read");
    }
}

namespace {

bool is_pipe(int fd) {
    struct stat st {};
    return ::fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

/// About how many bytes a write to the pipe `fd` takes now without
/// blocking: its size less what waits in it (a pipe of many small writes
/// may take less: its pages are its unit).
std::size_t pipe_room(int fd) {
    int size = ::fcntl(fd, F_GETPIPE_SZ);
    int waiting = 0;
    if (size < 0 || ::ioctl(fd, FIONREAD, &waiting) < 0) return SIZE_MAX;
    return size > waiting ? static_cast<std::size_t>(size - waiting) : 0;
}

}  // namespace

std::size_t write_while_taken(int fd, std::string_view data, int stall_ms) {
    if (!is_pipe(fd)) {
        write_all(fd, data);
        return data.size();
    }
    std::size_t written = 0;
    while (written < data.size()) {
        auto room = pipe_room(fd);
        if (room == 0) {
            pollfd p{fd, POLLOUT, 0};
            int ready = ::poll(&p, 1, stall_ms);
            if (ready < 0 && errno == EINTR) continue;
            if (ready < 0) throw_errno("poll");
            // The reader took nothing for that long; an error or hangup is the write's to say.
            if (ready == 0) break;
            if (!(p.revents & POLLOUT)) room = 1;
            else room = std::max<std::size_t>(pipe_room(fd), 1);
        }
        auto piece = data.substr(written, std::min(room, data.size() - written));
        write_all(fd, piece);
        written += piece.size();
    }
    return written;
}

std::size_t bytes_waiting(int fd) {
    int waiting = 0;
    return ::ioctl(fd, FIONREAD, &waiting) == 0 && waiting > 0 ? static_cast<std::size_t>(waiting) : 0;
}

void move_from_pipe(int from, int to, std::size_t n) {
    bool can_splice = true;
    while (n > 0) {
        if (can_splice) {
            ssize_t moved = ::splice(from, nullptr, to, nullptr, n, SPLICE_F_MOVE);
            if (moved > 0) {
                n -= static_cast<std::size_t>(moved);
                continue;
            }
            if (moved < 0 && errno == EINTR) continue;
            if (moved < 0 && errno == EAGAIN) {
                // `to` is full (or `from` is non-blocking and `to` would block): wait for room.
                pollfd p{to, POLLOUT, 0};
                if (::poll(&p, 1, -1) < 0 && errno != EINTR) throw_errno("poll");
                continue;
            }
            if (moved == 0) throw std::system_error(EIO, std::generic_category(), "splice: the pipe ran short");
            // Not a descriptor splice takes: copy the rest.
            if (errno != EINVAL) throw_errno("splice");
            can_splice = false;
        }
        char buffer[1 << 16];
        ssize_t got = ::read(from, buffer, std::min(n, sizeof buffer));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) throw_errno("read");
        if (got == 0) throw std::system_error(EIO, std::generic_category(), "read: the pipe ran short");
        write_all(to, std::string_view(buffer, static_cast<std::size_t>(got)));
        n -= static_cast<std::size_t>(got);
    }
}

void widen_pipe(int fd) {
    // A pipe already wider, or a limit that forbids it, stays as it is.
    if (is_pipe(fd) && ::fcntl(fd, F_GETPIPE_SZ) < (1 << 20)) ::fcntl(fd, F_SETPIPE_SZ, 1 << 20);
}

}  // namespace ppool::os
