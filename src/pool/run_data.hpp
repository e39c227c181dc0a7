#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ppool/result.hpp"
#include "ppool/result_run.hpp"

namespace ppool::detail {

/// What a run keeps of one result: a few words. Its input and output start
/// where the previous entry's end (one byte later for inputs, which are each
/// followed by one); anything a plain success lacks is in `RunData::more`.
struct RunEntry {
    std::uint64_t seq = 0;
    std::uint64_t duration_ns = 0;
    std::size_t input_end = 0;   ///< in `inputs`
    std::size_t output_end = 0;  ///< in `text`: the printed output, with the added newline, if any
    std::int32_t more = -1;      ///< index in `RunData::more`, or -1
    Status status = Status::error;
    bool added_newline = false;  ///< text output adds a newline to this output
};

/// The rest of a result, for the entries that have any.
struct EntryMore {
    std::optional<int> exit_code;
    std::optional<int> signal;
    std::size_t stderr_at = 0;  ///< in `extra`
    std::size_t stderr_size = 0;
    std::size_t error_at = 0;  ///< in `extra`
    std::size_t error_size = 0;
    std::size_t error_type_size = 0;  ///< in `extra`, after the error
    unsigned attempts = 1;
    /// The item was lost with its worker's host, among others that still run:
    /// it may run again there, beyond the job's retries.
    bool rerun = false;
    std::shared_ptr<const LargeOutput> large_output;
    std::shared_ptr<const LargeOutput> large_stderr;
};

/// The buffers a run's entries point into, shared by the runs cut from it.
struct RunData {
    std::shared_ptr<const std::string> inputs;  ///< the chunk's items (shared by every run of the chunk)
    std::size_t first_input = 0;                ///< where the first entry's input starts
    std::size_t first_output = 0;               ///< where the first entry's output starts
    std::string text;                           ///< outputs as text output prints them, back to back
    std::string extra;                          ///< stderr and error texts
    std::vector<RunEntry> entries;
    std::vector<EntryMore> more;
    int worker = -1;
    /// The host of the worker, as its launcher names it (Launcher::host);
    /// none: this machine, ":".
    std::shared_ptr<const std::string> host;
    bool is_command = false;
    /// Known of every entry when the run was made: each is a plain success
    /// (is_plain), and their sequence numbers follow one another.
    bool all_plain = false;
    bool consecutive = false;

    std::size_t input_start(std::size_t i) const { return i == 0 ? first_input : entries[i - 1].input_end + 1; }
    std::size_t output_start(std::size_t i) const { return i == 0 ? first_output : entries[i - 1].output_end; }
    std::string_view input(std::size_t i) const {
        auto start = input_start(i);
        return std::string_view(*inputs).substr(start, entries[i].input_end - start);
    }
    /// Entry `i`'s EntryMore, made if it has none.
    EntryMore& more_of(std::size_t i) {
        auto& e = entries[i];
        if (e.more < 0) {
            e.more = static_cast<std::int32_t>(more.size());
            more.emplace_back();
        }
        return more[static_cast<std::size_t>(e.more)];
    }
    /// Sets entry `i`'s error to `why` (stored in `extra`).
    void set_error(std::size_t i, std::string_view why) {
        auto& m = more_of(i);
        m.error_at = extra.size();
        m.error_size = why.size();
        m.error_type_size = 0;
        extra.append(why);
    }
};

/// One line saying why a task failed (TaskResult::describe_failure).
std::string describe_failure(Status status, std::optional<int> exit_code, std::optional<int> signal,
                             std::string_view error);

/// Whether entry `e` prints as its text alone.
inline bool is_plain(const RunData& d, const RunEntry& e) {
    if (e.status != Status::ok) return false;
    if (e.more < 0) return true;
    const auto& m = d.more[static_cast<std::size_t>(e.more)];
    return m.stderr_size == 0 && !m.large_output && !m.large_stderr;
}

}  // namespace ppool::detail
