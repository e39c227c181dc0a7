#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ppool/result.hpp"

namespace ppool {

namespace detail {
struct RunData;
}  // namespace detail

/// The results of consecutive tasks of one job as a worker sent them: their
/// texts in a few shared buffers and a small entry per task. Every result
/// travels this way, from the worker to the output; a TaskResult is made of
/// an entry only when one is asked for. Copies share the buffers.
class ResultRun {
public:
    /// One result of the run; the views point into the run's buffers, which
    /// live as long as any run sharing them.
    struct Entry {
        std::uint64_t seq = 0;         ///< 1-based position of the item in its input
        std::string_view input;        ///< the item
        Status status = Status::error; ///< how it ended
        std::optional<int> exit_code;  ///< a command's exit code, when it exited
        std::optional<int> signal;     ///< the signal that killed the command or worker
        std::string_view output;       ///< the task's result, without a newline added for printing
        std::string_view stderr_text;  ///< a command's stderr
        std::string_view error;        ///< why it failed, as the worker or the pool said; empty on success
        std::string_view error_type;   ///< the type of the exception a registered task threw (TaskResult::error_type)
        std::uint64_t duration_ns = 0; ///< wall-clock run time inside the worker, in nanoseconds
        int worker = -1;               ///< 0-based worker slot that ran it
        std::string_view host = ":";   ///< the host that ran it (TaskResult::host)
        unsigned attempts = 1;         ///< runs it took (more than 1 with retries)
        bool is_command = false;       ///< whether stderr_text and exit_code apply
        /// Set, with `output` empty, when the output was too large for memory
        /// (TaskResult::large_output); it lives as long as the run.
        const LargeOutput* large_output = nullptr;
        /// Set, with `stderr_text` empty, when the stderr was too large for memory.
        const LargeOutput* large_stderr = nullptr;

        /// Whether the task succeeded.
        bool ok() const { return status == Status::ok; }
        /// Whether the task was stopped for running past its time limit.
        bool timed_out() const { return status == Status::timeout; }
        /// The run time in seconds.
        double duration_s() const { return static_cast<double>(duration_ns) / 1e9; }
        /// As TaskResult::describe_failure.
        std::string describe_failure() const;
        /// The same result as a TaskResult (copies the texts; an output
        /// stored apart is left out: ResultRun::result keeps it).
        TaskResult to_result() const;
    };

    ResultRun() = default;
    /// A run of the one result.
    explicit ResultRun(const TaskResult& result);
    /// Entries `begin` to `end` of `data` (for the pool's own use).
    ResultRun(std::shared_ptr<detail::RunData> data, std::size_t begin, std::size_t end)
        : m_data(std::move(data)), m_begin(begin), m_end(end) {}

    /// Results not yet taken.
    std::size_t size() const { return m_end - m_begin; }
    /// Whether every result has been taken.
    bool empty() const { return m_begin == m_end; }
    /// The sequence number of the next result; the run must not be empty.
    std::uint64_t first_seq() const;
    /// The `i`th result not yet taken.
    Entry operator[](std::size_t i) const;
    /// Takes the next result; the run must not be empty.
    Entry pop();
    /// The `i`th result not yet taken as a TaskResult, sharing any output stored apart.
    TaskResult result(std::size_t i) const;
    /// Takes the next result as a TaskResult.
    TaskResult pop_result();
    /// Takes the first `n` results (at most size()) as a run of their own.
    ResultRun take_front(std::size_t n);
    /// Takes every result left.
    void clear() { m_begin = m_end; }

    /// Whether printing the results left as text is printing text(): all
    /// succeeded, no stderr, nothing stored apart.
    bool plain() const;
    /// Whether a result left failed.
    bool has_failure() const;
    /// The outputs of the results left as text output prints them, each
    /// followed by its added newline if it has one: for a plain() run, the
    /// whole of what text output prints.
    std::string_view text() const;

    /// For the pool's own use: the shared entries and this run's range of them.
    ///@{
    const std::shared_ptr<detail::RunData>& data() const { return m_data; }
    std::size_t begin_index() const { return m_begin; }
    std::size_t end_index() const { return m_end; }
    ///@}

private:
    std::shared_ptr<detail::RunData> m_data;
    std::size_t m_begin = 0;
    std::size_t m_end = 0;
};

}  // namespace ppool
