#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ppool/pool.hpp"

namespace ppool::cli {

enum class Mode { map, imap, imap_unordered, apply, tasks };

/// When the progress line is drawn.
enum class ProgressWhen { never, terminal, always };

/// --max-item-size when it is not given: an item beyond it is a mistake (no
/// separator in the input, or the wrong one) more likely than an item.
inline constexpr std::uint64_t k_default_max_item_size = std::uint64_t{1} << 30;

/// One input source: the items after `:::`, or the lines of a file (`::::`, `-a`).
struct InputSource {
    std::vector<std::string> items;  ///< `:::` items
    std::string file;                ///< `::::` or `-a` FILE ("-": stdin)
    bool from_file = false;
    bool linked = false;             ///< `:::+` or `::::+`: paired by position with the source before
};

/// Everything the command line says.
struct Options {
    Mode mode = Mode::imap;
    int processes = 0;                 ///< 0: usable CPUs
    std::size_t chunksize = 0;         ///< 0: the mode's default
    std::vector<std::string> inputs;   ///< empty: stdin
    bool null = false;
    std::uint64_t max_item_size = k_default_max_item_size;  ///< bytes in one item read from input
    std::optional<double> timeout;
    std::string initializer;
    std::string launcher;              ///< how workers start: fork, exec, or a shell command
    std::string server;                ///< --server: the socket of the ppool serve whose workers run the tasks
    std::vector<std::string> sshlogins;  ///< -S: hosts to run workers on
    std::string sshloginfile;          ///< --sshloginfile
    std::string ssh;                   ///< --ssh: the ssh command
    std::string remote_ppool;          ///< --remote-ppool
    bool slurm = false;                ///< --slurm
    bool transfer = false;             ///< --transfer: items name files sent to the hosts
    std::vector<std::string> transfer_files;  ///< --transferfile: files sent to the hosts (templates)
    std::vector<std::string> returns;  ///< --return: files brought back (templates)
    bool cleanup = false;              ///< --cleanup: the hosts' copies removed
    std::vector<std::string> trc;      ///< --trc: --transfer --return FILE --cleanup
    std::string init_task;
    std::string initargs;
    std::uint64_t max_tasks_per_worker = 0;
    bool json = false;
    bool fail_fast = false;
    HaltRule halt{};                   ///< --halt (fail-fast when `never` and fail_fast)
    double delay = 0;                  ///< --delay: seconds between two starts
    double load = 0;                   ///< --load: no start above this load average (0: no limit)
    std::uint64_t memfree = 0;         ///< --memfree: no start below this many bytes free (0: no limit)
    double timeout_percent = 0;        ///< --timeout N%: of the median run time (0: not given)
    std::vector<std::string> plugins;  ///< shared libraries that add tasks
    std::string task;                  ///< registered task, or empty for a command
    std::vector<std::string> words;    ///< the command, or apply's ITEM with --task
    std::string shell;                 ///< --shell: runs scripts (empty: $PPOOL_SHELL, $PARALLEL_SHELL, /bin/sh)
    std::vector<std::string> env;      ///< --env: variables and bash functions passed to every host
    bool quote = false;                ///< -q: shell operators among the words are arguments
    std::vector<InputSource> sources;  ///< -a files, then the `:::` and `::::` sources, in order
    bool link = false;                 ///< --link: all sources paired by position
    std::size_t max_args = 0;          ///< -N, -n: items per command (0: one, not grouped)
    bool fill_line = false;            ///< -m, -X: as many items per command as fit one command line
    bool context_replace = false;      ///< -X: a word holding {} is repeated for each item
    std::size_t max_chars = 0;         ///< --max-chars (0: xargs' limit)
    std::string replace;               ///< -I: the replacement string instead of {}
    std::optional<std::string> colsep;  ///< --colsep: split items into columns
    bool csv = false;                  ///< --csv: items are CSV records
    std::optional<std::string> header;  ///< --header: ":" or a regex for the leading lines naming the columns
    std::uint64_t block = 0;           ///< --block: --pipe chunks of about this many bytes
    bool pipepart = false;             ///< --pipepart: cut -a FILE by offsets
    std::string recstart;              ///< --recstart: a record begins with this
    std::optional<std::string> recend;  ///< --recend: a record ends with this
    bool pipe = false;                 ///< chunks go to the command's stdin
    bool tag = false;                  ///< prefix output lines with the item and a TAB
    std::optional<std::string> tagstring;  ///< --tagstring: prefix output lines with this, expanded, and a TAB
    bool line_buffer = false;          ///< --line-buffer: whole lines written as they come
    bool ungroup = false;              ///< --ungroup: bytes written as they come
    std::string results;               ///< --results: DIR, or a .csv, .tsv or .json file
    std::string joblog;                ///< file that gets one line per finished task
    bool resume = false;               ///< skip items the joblog says succeeded
    unsigned retries = 0;              ///< extra attempts for a failed task
    bool dry_run = false;              ///< print what would run
    ProgressWhen progress = ProgressWhen::never;
    bool bar = false;                  ///< --bar: the progress line as a bar on a terminal
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
