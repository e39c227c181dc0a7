#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "os/fd.hpp"
#include "ppool/item_source.hpp"
#include "ppool/result_run.hpp"

namespace ppool::cli {

/// The header line of a joblog (without its newline).
extern const std::string_view k_joblog_header;
/// The header of a joblog written before it had the host column: such a
/// joblog is read by --resume, and appended to in its own columns.
extern const std::string_view k_joblog_header_without_host;

/// The --resume key of an item: SHA-256 (hex) of the task's identity and the item.
std::string joblog_key(std::string_view task_identity, std::string_view item);

/// A joblog field: backslash, TAB, newline and CR written as \\ \t \n \r.
std::string joblog_escape(std::string_view text);

/// How many times each key succeeded according to the joblog at `path` (of
/// either header); an absent file has none. A torn last line (a crash
/// mid-write) is ignored; a file that is not a ppool joblog is a UsageError.
std::unordered_map<std::string, std::uint64_t> succeeded_keys(const std::string& path);

/// `source` without the items whose key the joblog says succeeded: each
/// success skips one occurrence of its item.
std::unique_ptr<ItemSource> skip_succeeded(std::unique_ptr<ItemSource> source,
                                           std::unordered_map<std::string, std::uint64_t> done,
                                           std::string task_identity);

/// The --joblog file: one tab-separated line per finished task, appended with
/// a single write as the task finishes, so that a crash loses no finished line.
class Joblog {
public:
    /// Opens (creates) `path` for appending; writes the header into an empty
    /// file, and lines without the host into a joblog whose header has none,
    /// so that no file mixes the two. `command` tells what a task ran.
    /// UsageError if it cannot be opened; ppool::Error naming the joblog if
    /// the header cannot be written.
    Joblog(const std::string& path, std::string task_identity,
           std::function<std::string(const ResultRun::Entry&)> command, bool args_input = false);
    /// Appends the line of a finished task; ppool::Error naming the joblog if
    /// it cannot be written (a full disk).
    void record(const ResultRun& results);

private:
    void write(std::string_view text);

    std::string m_path;
    os::Fd m_fd;
    std::string m_task_identity;
    bool m_with_host = true;
    std::function<std::string(const ResultRun::Entry&)> m_command;
    bool m_args_input = false;  ///< items are lists of arguments, shown joined by spaces
};

}  // namespace ppool::cli
