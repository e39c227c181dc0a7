#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "ppool/result.hpp"

namespace ppool {

/// Consecutive successful results of a registered task, kept as the few
/// buffers a worker sent rather than one TaskResult per item: what text
/// output prints, plus what it takes to rebuild every TaskResult.
class ResultRun {
public:
    /// One result of the run; the views point into the run.
    struct Entry {
        std::uint64_t seq = 0;
        std::string_view input;
        std::string_view output;        ///< the task's result, without a newline added for printing
        std::uint64_t duration_ns = 0;  ///< wall-clock run time inside the worker

        /// The run time in seconds, as a TaskResult has it.
        double duration_s() const { return static_cast<double>(duration_ns) / 1e9; }
    };

    ResultRun() = default;
    /// `inputs`: the `count` items, each followed by `separator`; `meta` and
    /// `text` as in protocol::RunResultMessage. Throws std::invalid_argument
    /// if the parts do not describe the same `count` results.
    ResultRun(std::uint64_t first_seq, std::uint64_t count, int worker, char separator, std::string inputs,
              std::string meta, std::string text);

    /// Whether the parts describe the same `count` results (what the constructor checks).
    static bool consistent(std::uint64_t count, char separator, std::string_view inputs, std::string_view meta,
                           std::string_view text);

    /// Results not yet taken.
    std::uint64_t size() const { return m_count - m_taken; }
    bool empty() const { return size() == 0; }
    /// The sequence number of the next result.
    std::uint64_t first_seq() const { return m_first_seq + m_taken; }
    int worker() const { return m_worker; }
    /// The outputs of the results not yet taken, each ending with a newline:
    /// exactly what text output prints for them.
    std::string_view text() const { return std::string_view(m_text).substr(m_text_at); }

    /// Takes the next result; the run must not be empty.
    Entry pop();
    /// Takes the next result as the TaskResult the per-item path would have made.
    TaskResult pop_result();
    /// Takes every result left (once its text has been used).
    void clear() {
        m_taken = m_count;
        m_input_at = m_inputs.size();
        m_meta_at = m_meta.size();
        m_text_at = m_text.size();
    }

private:
    std::uint64_t m_first_seq = 0;
    std::uint64_t m_count = 0;
    std::uint64_t m_taken = 0;
    int m_worker = -1;
    char m_separator = '\n';
    std::string m_inputs;
    std::string m_meta;
    std::string m_text;
    std::size_t m_input_at = 0;
    std::size_t m_meta_at = 0;
    std::size_t m_text_at = 0;
};

/// Results as a streaming job keeps them: one, or a run of successful ones.
using ResultBatch = std::variant<TaskResult, ResultRun>;

}  // namespace ppool
