#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/frame.hpp"
#include "protocol/session.hpp"

namespace ppool::worker {

/// What a worker was told by its configure message, as its loop uses it.
struct WorkerConfig {
    int slot = 0;
    std::string initializer;  ///< registered task run once with `initargs`
    std::string initargs;
    std::string initializer_command;
    std::string shell;                     ///< runs initializer_command; empty for /bin/sh
    std::vector<std::string> environment;  ///< NAME=VALUE for every task and the initializer
    std::optional<double> task_timeout;  ///< seconds
    double kill_grace = 2.0;             ///< seconds between SIGTERM and SIGKILL
    std::vector<std::string> returns;    ///< files sent back after each item (templates)
    bool cleanup = false;                ///< the item's files are removed after it
    bool live_output = false;            ///< a command's output goes out as it comes (live_output frames)
};

/// Registers a command task sent as data, unless a task of that name is
/// known already (a forked worker has the tasks of its parent's registry).
void register_command_task(const protocol::CommandTaskSpec& c);

/// Carries out what a configure message asks before any task: plugins
/// loaded, command tasks registered. Empty on success, else why not.
std::string apply_configuration(const protocol::ConfigureMessage& msg);
/// The hello that answers a configure message (`error` empty: it was carried out).
protocol::HelloMessage hello_message(std::string error);
/// What the loop uses of a configure message.
WorkerConfig config_of(const protocol::ConfigureMessage& msg);

/// Lends this worker, warm (its initializer has run), to another pool
/// (`ppool imap --server`). `lend` is the Unix socket that pool listens on,
/// a NUL, and the directory its tasks run in. The worker connects, takes
/// the pool's end of the channel (a pipe) over the socket, is configured
/// (its tasks get the environment the configure message names, whole, and
/// its commands names of their own), and serves that pool until it closes
/// the socket; then it is back in the directory and the pool it came from.
/// Empty, or why it could not serve.
std::string serve_lent(std::string_view lend);

/// The name of the task that lends a worker (its item: see serve_lent).
inline constexpr std::string_view k_lend_task = "@lend";
/// Registers k_lend_task, once.
void register_lend_task();

/// Reads one frame (blocking); false when the parent has closed the channel.
bool read_frame(int fd, std::string& payload, protocol::FrameType& type);

/// The worker's loop: runs the initializer, then reads a chunk, runs each
/// item and writes its results, until the parent closes the channel. Never returns.
[[noreturn]] void serve(const WorkerConfig& config, int from_parent, int to_parent);

}  // namespace ppool::worker
