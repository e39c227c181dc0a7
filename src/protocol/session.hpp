#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ppool::protocol {

/// Raised on both sides of a conversation between ppool and a worker built
/// from another version of the protocol.
inline constexpr std::uint32_t k_protocol_version = 4;

/// A command task as data, rebuilt by the worker.
struct CommandTaskSpec {
    std::string name;
    std::vector<std::string> words;
    bool append_item = true;
    bool item_on_stdin = false;
    bool item_is_args = false;
    bool context_replace = false;
    std::string replace = {};
    std::string stdin_file = {};
    bool in_shell = false;
    std::string shell = {};
};

/// Everything a worker needs, sent first (parent to worker): nothing reaches
/// a worker through the memory of the process that started it.
struct ConfigureMessage {
    std::uint32_t version = k_protocol_version;
    std::int32_t slot = 0;                       ///< PPOOL_WORKER
    std::vector<std::string> plugins;            ///< shared libraries to load first
    std::vector<CommandTaskSpec> commands;       ///< command tasks to register
    std::string initializer;                     ///< registered task run once with `initargs`
    std::string initargs;
    std::string initializer_command;             ///< shell command run once
    std::optional<std::uint64_t> task_timeout_ns;
    std::uint64_t kill_grace_ns = 0;
    /// --return: files brought back after each item, as templates with
    /// replacement strings. Empty where nothing comes back (this machine).
    std::vector<std::string> returns;
    /// --cleanup: the files sent for an item, and those returned, are removed after it.
    bool cleanup = false;
    /// --line-buffer, --ungroup: a command's output goes to the pool as it
    /// comes, in live_output frames, and none of it in the item's result.
    bool live_output = false;
    /// The shell that runs the initializer command; empty for /bin/sh.
    std::string shell;
    /// NAME=VALUE: added to the environment of every task and the initializer (--env).
    std::vector<std::string> environment;
};

/// The worker's answer to configure (worker to parent), before it runs the
/// initializer: who it is and what it can run.
struct HelloMessage {
    std::uint32_t version = k_protocol_version;
    std::string host;
    std::uint32_t cpus = 0;
    std::vector<std::string> tasks;  ///< every registered task, commands included
    std::string error;               ///< set when the configuration could not be carried out
};

void encode_configure(std::string& out, const ConfigureMessage& msg);
/// Throws ProtocolError for a malformed payload; a payload of another
/// version decodes as far as its version, for a clear error.
ConfigureMessage decode_configure(std::string_view payload);

/// A command task for a running worker (FrameType::task).
void encode_task(std::string& out, const CommandTaskSpec& spec);
/// Throws ProtocolError for a malformed payload.
CommandTaskSpec decode_task(std::string_view payload);

void encode_hello(std::string& out, const HelloMessage& msg);
HelloMessage decode_hello(std::string_view payload);

}  // namespace ppool::protocol
