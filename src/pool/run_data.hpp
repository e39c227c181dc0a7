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

/// What a run keeps of one result: offsets into the run's buffers.
struct RunEntry {
    std::uint64_t seq = 0;
    std::uint64_t duration_ns = 0;
    std::size_t input_at = 0;
    std::size_t input_size = 0;
    std::size_t output_at = 0;    ///< in `text`
    std::size_t output_size = 0;  ///< printed size: with the added newline, if any
    std::size_t stderr_at = 0;    ///< in `extra`
    std::size_t stderr_size = 0;
    std::size_t error_at = 0;     ///< in `extra`
    std::size_t error_size = 0;
    std::int32_t exit_code = 0;
    std::int32_t signal = 0;
    std::int32_t large = -1;      ///< index in `large`, or -1
    std::uint32_t attempts = 1;
    Status status = Status::error;
    bool has_exit = false;
    bool has_signal = false;
    bool added_newline = false;   ///< text output adds a newline to this output
};

/// Outputs of one entry stored apart from the run's text.
struct LargeParts {
    std::shared_ptr<const LargeOutput> output;
    std::shared_ptr<const LargeOutput> stderr_text;
};

/// The buffers a run's entries point into, shared by the runs cut from it.
struct RunData {
    std::shared_ptr<const std::string> inputs;  ///< the chunk's items (shared by every run of the chunk)
    std::string text;                            ///< outputs as text output prints them, back to back
    std::string extra;                           ///< stderr and error texts
    std::vector<RunEntry> entries;
    std::vector<LargeParts> large;
    int worker = -1;
    bool is_command = false;

    /// Sets entry `i`'s error to `why` (stored in `extra`).
    void set_error(std::size_t i, std::string_view why) {
        entries[i].error_at = extra.size();
        entries[i].error_size = why.size();
        extra.append(why);
    }
};

/// One line saying why a task failed (TaskResult::describe_failure).
std::string describe_failure(Status status, std::optional<int> exit_code, std::optional<int> signal,
                             std::string_view error);

/// Whether entry `e` prints as its text alone.
inline bool is_plain(const RunEntry& e) {
    return e.status == Status::ok && e.stderr_size == 0 && e.large < 0;
}

}  // namespace ppool::detail
