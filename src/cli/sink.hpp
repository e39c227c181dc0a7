#pragma once

#include <memory>
#include <string>

#include "ppool/result.hpp"
#include "ppool/result_run.hpp"

namespace ppool::cli {

/// Where results go: text or JSON, one interface.
class Sink {
public:
    virtual ~Sink() = default;
    /// Writes one result (buffered until `flush`).
    virtual void write(const TaskResult& result) = 0;
    /// Writes a run of successful results, taking them all; by default one
    /// by one, as write() would.
    virtual void write_run(ResultRun& run) {
        while (!run.empty()) write(run.pop_result());
    }
    /// Says on stderr why a task failed (text: one line; JSON: in the object, so nothing).
    virtual void report_failure(const TaskResult& result) = 0;
    /// Sends what is buffered to stdout.
    virtual void flush() = 0;
    /// Ends the output (closes the JSON array of map) and flushes.
    virtual void finish() = 0;
};

/// `array`: map's single JSON array instead of JSON Lines.
std::unique_ptr<Sink> make_text_sink();
std::unique_ptr<Sink> make_json_sink(bool array);

/// The one-line failure message: "ppool: task SEQ (ITEM) failed: REASON".
std::string failure_line(const TaskResult& result);

/// Buffered writes to a descriptor; flushes once it holds `limit` bytes.
class OutputBuffer {
public:
    explicit OutputBuffer(int fd) : m_fd(fd) {}
    std::string& data() { return m_data; }
    void maybe_flush() {
        if (m_data.size() >= k_limit) flush();
    }
    void flush();
    /// Writes `data` now, after what is buffered.
    void write_through(std::string_view data);
    /// Flushes, then writes the failure line on stderr (after the output it follows).
    void report_failure(const TaskResult& result);

    static constexpr std::size_t k_limit = 1 << 16;

private:
    int m_fd;
    std::string m_data;
};

/// JSON Lines of a run's results, taking them all (cli/json_run.cpp).
void write_json_run_lines(OutputBuffer& out, ResultRun& run);

}  // namespace ppool::cli
