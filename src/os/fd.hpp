#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ppool::os {

/// Move-only owner of a file descriptor; closes it on destruction.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) noexcept : m_fd(fd) {}
    Fd(Fd&& other) noexcept : m_fd(other.release()) {}
    Fd& operator=(Fd&& other) noexcept;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }

    /// The descriptor, or -1 when empty.
    int get() const noexcept { return m_fd; }
    explicit operator bool() const noexcept { return m_fd >= 0; }
    /// Gives up ownership without closing.
    int release() noexcept;
    /// Closes the owned descriptor (if any) and takes `fd`.
    void reset(int fd = -1) noexcept;

private:
    int m_fd = -1;
};

/// Both ends of a close-on-exec pipe.
struct Pipe {
    Fd read;
    Fd write;
};

/// Creates a close-on-exec pipe; throws std::system_error.
Pipe make_pipe();

/// A close-on-exec copy of `fd` (above 2); throws std::system_error.
Fd duplicate(int fd);

/// A close-on-exec connected pair of stream sockets, for a one-way channel
/// whose writer must never be killed by SIGPIPE (see send_pieces).
Pipe make_socket_channel();


/// Sets or clears O_NONBLOCK on a descriptor.
void set_nonblocking(int fd, bool on);
/// Makes a descriptor that has no status flags yet (a new pipe's end)
/// non-blocking, with one call.
void set_nonblocking_fresh(int fd);

/// Outcome of a single non-blocking transfer.
enum class IoStatus { done, would_block, closed };

/// Reads what is available (at most `max` bytes) and appends it to `out`.
/// Returns `closed` at end of file, `would_block` when nothing is there.
IoStatus read_some(int fd, std::string& out, std::size_t max);
/// Reads and drops what a non-blocking descriptor holds, without allocating:
/// `closed` at end of file, else `would_block` once it is empty; throws
/// std::system_error on other errors.
IoStatus discard_available(int fd);
/// Waits up to `timeout_ms` (-1: no limit) for the other end of a pipe or
/// socket to be closed, without reading: true once it has been.
bool wait_for_hangup(int fd, int timeout_ms);

/// Sends data in pieces (one sendmsg for many of them) from piece `index` at
/// `offset` on, advancing both; never blocks and never raises SIGPIPE, so a
/// library caller need not ignore that signal. `closed`: the reader is gone.
IoStatus send_pieces(int fd, const std::vector<std::string_view>& pieces, std::size_t& index, std::size_t& offset);

/// Writes what the non-blocking descriptor takes of `data` and drops it from
/// the front. `closed`: the reader is gone (EPIPE; SIGPIPE must be ignored).
IoStatus write_some(int fd, std::string_view& data);

/// Writes all of `data`, blocking as needed. Throws std::system_error (EPIPE included).
void write_all(int fd, std::string_view data);
/// Writes `head` then `tail` (with writev: one call where the descriptor takes both).
void write_all(int fd, std::string_view head, std::string_view tail);

/// Reads exactly `size` bytes into `out`; false at end of file before any byte.
/// Throws std::system_error on errors or on a partial record.
bool read_exact(int fd, char* out, std::size_t size);

/// Opens /dev/null for reading and writing, close-on-exec.
Fd open_dev_null();

/// Writes `data` to `fd` while its reader keeps taking it: a pipe gets what
/// it has room for, and when it is full the write waits for room, but only
/// up to `stall_ms` without a byte taken. Anything but a pipe gets all of
/// it. Returns the bytes written. Throws std::system_error (EPIPE included).
std::size_t write_while_taken(int fd, std::string_view data, int stall_ms);
/// Bytes waiting to be read in the pipe `fd` (0 if that cannot be told).
std::size_t bytes_waiting(int fd);
/// Moves `n` bytes, which the pipe `from` holds already, to `to`: by splice,
/// the pages themselves rather than copies, where the kernel can; else read
/// and written. Blocks as `to` needs. Throws std::system_error (EPIPE included).
void move_from_pipe(int from, int to, std::size_t n);
/// Widens `fd` to a 1 MiB pipe where it is a pipe and that is allowed:
/// large outputs then cross it in fewer, larger steps.
void widen_pipe(int fd);

}  // namespace ppool::os
