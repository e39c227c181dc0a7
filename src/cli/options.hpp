#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ppool::cli {

enum class Mode { map, imap, imap_unordered, apply, tasks };

/// Everything the command line says.
struct Options {
    Mode mode = Mode::imap;
    int processes = 0;                 ///< 0: usable CPUs
    std::size_t chunksize = 0;         ///< 0: the mode's default
    std::vector<std::string> inputs;   ///< empty: stdin
    bool null = false;
    std::optional<double> timeout;
    std::string initializer;
    std::string init_task;
    std::string initargs;
    std::uint64_t max_tasks_per_worker = 0;
    bool json = false;
    bool fail_fast = false;
    std::vector<std::string> plugins;  ///< shared libraries that add tasks
    std::string task;                  ///< registered task, or empty for a command
    std::vector<std::string> words;    ///< the command, or apply's ITEM with --task
};

/// The outcome of parsing: options to run, or an exit status after --help/--version.
struct Parsed {
    std::optional<Options> options;
    int exit_status = 0;
};

/// Parses argv; prints help or version itself; throws UsageError for mistakes.
Parsed parse_command_line(int argc, char** argv);

/// One row of the mode table that feeds the parser and --help.
struct ModeInfo {
    Mode mode;
    std::string_view name;
    std::string_view alias;
    std::string_view summary;
};
extern const std::vector<ModeInfo> k_modes;

}  // namespace ppool::cli
