#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ppool/result_run.hpp"

namespace ppool::cli {

/// Where results go: text or JSON, one interface.
class Sink {
public:
    virtual ~Sink() = default;
    /// Writes the results of a run, taking them all (buffered until `flush`).
    virtual void write(ResultRun& run) = 0;
    /// Says on stderr why a task failed (text: one line; JSON: in the object, so nothing).
    virtual void report_failure(const ResultRun::Entry& result) = 0;
    /// Writes a part of task `seq`'s stdout as it arrives, before its result,
    /// if the sink writes it as it is and the task is the next to be written
    /// (SinkOptions::stream_next): as much of it as stdout takes without
    /// waiting. Returns the bytes written; the rest stays in the result.
    virtual std::size_t write_part(std::uint64_t /*seq*/, std::string_view /*data*/) { return 0; }
    /// Sends what is buffered to stdout.
    virtual void flush() = 0;
    /// Ends the output (closes the JSON array of map) and flushes.
    virtual void finish() = 0;
};

/// How results are shown, beyond the format.
struct SinkOptions {
    bool tag = false;                     ///< text: prefix output lines with the item and a TAB
    /// --tagstring: the prefix of a task's lines (TAB included) instead of the item's
    std::function<std::string(std::string_view input, std::uint64_t seq, int worker)> tag_of;
    std::optional<char> chunk_separator;  ///< --pipe: each item is a chunk of items ending in this
    std::function<void()> before_write;   ///< called before writing anything (clears --progress)
    bool args_input = false;              ///< items are lists of arguments (JSON arrays; joined by spaces in text)
    bool outputs_kept = false;            ///< text: outputs go to --results files, only failures are said
    /// text: results come in input order, each written as it is and only
    /// once: the large output of the task next in order may go out as it
    /// arrives (Sink::write_part), not held until the task ends.
    bool stream_next = false;
};

/// `array`: map's single JSON array instead of JSON Lines.
std::unique_ptr<Sink> make_text_sink(SinkOptions options = {});
std::unique_ptr<Sink> make_json_sink(bool array, SinkOptions options = {});

/// Appends text with every line prefixed by `tag` (--tag); `at_start` says
/// whether the next byte begins a line, across pieces.
void append_tagged(std::string& out, std::string_view tag, std::string_view text, bool& at_start);

/// The prefix of a task's output lines with --tag or --tagstring, TAB included.
std::string line_tag(const SinkOptions& options, std::string_view input, std::uint64_t seq, int worker);

/// The one-line failure message: "ppool: task SEQ (ITEM) failed: REASON", or
/// "(chunk of N items)" for a --pipe chunk.
std::string failure_line(const ResultRun::Entry& result, std::optional<char> chunk_separator = {},
                         bool args_input = false);

/// Buffered writes to a descriptor; flushes once it holds `limit` bytes.
class OutputBuffer {
public:
    OutputBuffer(int fd, const SinkOptions& options) : m_fd(fd), m_options(options) {}
    /// Call before writing past the buffer (to stderr, or straight to the descriptor).
    void before_write() {
        if (m_options.before_write) m_options.before_write();
    }
    std::string& data() { return m_data; }
    void maybe_flush() {
        if (m_data.size() >= k_limit) flush();
    }
    void flush();
    /// Writes `data` now, after what is buffered.
    void write_through(std::string_view data);
    /// Flushes, then writes the failure line on stderr (after the output it follows).
    void report_failure(const ResultRun::Entry& result);

    static constexpr std::size_t k_limit = 1 << 16;

private:
    int m_fd;
    const SinkOptions& m_options;
    std::string m_data;
};

/// JSON Lines of a run's results, taking them all (cli/json_lines.cpp): a
/// fast entry is written in place, any other is handed to `other`.
void write_json_lines(OutputBuffer& out, ResultRun& run, const std::function<void(const ResultRun::Entry&)>& other);

}  // namespace ppool::cli
