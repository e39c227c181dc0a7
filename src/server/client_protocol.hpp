#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ppool::server {

/// The version of the conversation between `ppool serve` and its clients,
/// checked by the hello that opens every connection.
inline constexpr std::uint32_t k_client_protocol_version = 2;

/// What a hello starts with, so that a stranger on the socket is told apart from an old client.
inline constexpr std::string_view k_hello_magic = "ppool-serve";

/// The largest request the server accepts: a command line or an item.
inline constexpr std::uint64_t k_max_request_bytes = 16u << 20;
/// The largest reply a client accepts: a result, which the server holds
/// only up to k_max_held_bytes in all.
inline constexpr std::uint64_t k_max_reply_bytes = 1ull << 30;

/// Every frame: a one-byte kind, a 64-bit little-endian payload length, the payload.
inline constexpr std::size_t k_client_header_size = 9;

/// What a client asks (client to server).
enum class RequestKind : std::uint8_t {
    hello = 1,           ///< version; must come first
    submit_command = 2,  ///< words, in_shell, shell: run the command once
    submit_task = 3,     ///< task, item: run a registered task on the item
    get = 4,             ///< id: the result, once ready; fetches it
    wait = 5,            ///< id: answered once ready
    ready = 6,           ///< id: whether it is ready
    successful = 7,      ///< id: whether it succeeded (an error if not ready)
    close = 8,
    terminate = 9,
    join = 10,  ///< answered once every job has finished
    status = 11,
    /// id: how many workers, item: ADDRESS NUL DIRECTORY. Each of that many
    /// workers, once free, is lent to the pool listening at ADDRESS, and
    /// comes back when that pool lets go of it (ppool imap --server).
    lend = 12,
};

struct Request {
    RequestKind kind = RequestKind::hello;
    std::uint32_t version = 0;       ///< hello
    std::uint64_t id = 0;            ///< get, wait, ready, successful; lend: how many
    std::vector<std::string> words;  ///< submit_command
    bool in_shell = false;           ///< submit_command: the words are one shell script
    std::string shell;               ///< submit_command: the shell; empty for /bin/sh
    std::string task;                ///< submit_task
    std::string item;                ///< submit_task; lend: ADDRESS NUL DIRECTORY
};

/// What the server answers (server to client).
enum class ReplyKind : std::uint8_t {
    welcome = 1,  ///< to hello: the server's version
    job = 2,      ///< to submit: the job's id
    result = 3,   ///< to get: ok, output, stderr, error
    flag = 4,     ///< to ready, successful: yes or no
    done = 5,     ///< to wait, close, terminate, join
    status = 6,
    error = 7,  ///< the request could not be carried out: message (one line)
};

/// The pool as a status request sees it.
struct ServerStatus {
    std::uint64_t workers = 0;
    std::uint64_t queued = 0;
    std::uint64_t running = 0;
    std::uint64_t finished = 0;  ///< finished, not fetched yet
    std::uint64_t waiting = 0;   ///< clients waiting for a job (get, wait) or the pool (join)
    std::uint64_t lending = 0;   ///< workers lent to runs (--server), or asked for by them
    bool closed = false;
};

struct Reply {
    ReplyKind kind = ReplyKind::done;
    std::uint32_t version = 0;  ///< welcome
    std::uint64_t id = 0;       ///< job
    bool flag = false;          ///< flag; result: ok
    std::string output;         ///< result: the task's output (a command's stdout)
    std::string stderr_text;    ///< result: a command's stderr
    std::string message;        ///< result: the task's error; error: what went wrong
    ServerStatus status;
};

/// A malformed frame or payload.
class ClientProtocolError : public std::exception {
public:
    explicit ClientProtocolError(std::string what) : m_what(std::move(what)) {}
    const char* what() const noexcept override { return m_what.c_str(); }

private:
    std::string m_what;
};

/// Appends the request's frame to `out`.
void encode_request(std::string& out, const Request& request);
/// The request a frame's payload holds; ClientProtocolError unless it is
/// well formed and in its one spelling (a known kind, no trailing bytes,
/// flags 0 or 1, counts within the payload, a command with words).
Request decode_request(std::uint8_t kind, std::string_view payload);

void encode_reply(std::string& out, const Reply& reply);
Reply decode_reply(std::uint8_t kind, std::string_view payload);

/// Splits a byte stream into frames, whatever the read boundaries were.
class FrameSplitter {
public:
    /// Refuses frames longer than `max_bytes`.
    explicit FrameSplitter(std::uint64_t max_bytes) : m_max(max_bytes) {}
    struct Frame {
        std::uint8_t kind = 0;
        std::string_view payload;  ///< valid until the next call
    };
    /// The buffer to append freshly read bytes to.
    std::string& buffer() { return m_buffer; }
    /// The next complete frame, if buffered; ClientProtocolError for a
    /// frame longer than the limit, as soon as its header is in.
    std::optional<Frame> next();

private:
    std::nullopt_t compact();
    std::uint64_t m_max;
    std::string m_buffer;
    std::size_t m_offset = 0;
};

}  // namespace ppool::server
