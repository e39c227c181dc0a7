#pragma once

#include <memory>
#include <string>

#include "ppool/result.hpp"

namespace ppool::cli {

/// Where results go: text or JSON, one interface.
class Sink {
public:
    virtual ~Sink() = default;
    /// Writes one result (buffered until `flush`).
    virtual void write(const TaskResult& result) = 0;
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
    /// Flushes, then writes the failure line on stderr (after the output it follows).
    void report_failure(const TaskResult& result);

private:
    static constexpr std::size_t k_limit = 1 << 16;
    int m_fd;
    std::string m_data;
};

}  // namespace ppool::cli
