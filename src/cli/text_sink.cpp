#include "cli/encoding.hpp"
#include "cli/sink.hpp"
#include "cli/stream_runs.hpp"
#include "os/fd.hpp"

#include <fmt/format.h>

namespace ppool::cli {

void OutputBuffer::flush() {
    if (m_data.empty()) return;
    os::write_all(m_fd, m_data);
    m_data.clear();
}

void OutputBuffer::write_through(std::string_view data) {
    flush();
    os::write_all(m_fd, data);
}

void OutputBuffer::report_failure(const TaskResult& r) {
    flush();
    os::write_all(2, failure_line(r));
}

std::string failure_line(const TaskResult& r) {
    // One line whatever the item or the reason hold.
    return fmt::format("ppool: task {} ({}) failed: {}\n", r.seq, printable(r.input),
                       printable(r.describe_failure(), 4096));
}

namespace {

class TextSink final : public Sink {
public:
    void write(const TaskResult& r) override {
        // A command's stderr goes out as one block, next to its result.
        if (!r.stderr_text.empty() || r.large_stderr) {
            m_out.flush();
            os::write_all(2, r.stderr_text);
            if (r.large_stderr) r.large_stderr->for_each_block([](std::string_view b) { os::write_all(2, b); });
        }
        char last = r.output.empty() ? '\0' : r.output.back();
        if (r.large_output) {
            // Straight from the spill file to stdout, a block at a time.
            m_out.flush();
            r.large_output->for_each_block([&](std::string_view b) {
                os::write_all(1, b);
                last = b.back();
            });
        } else {
            m_out.data() += r.output;
        }
        if (!r.is_command && r.ok && last != '\n') m_out.data() += '\n';
        if (!r.ok) report_failure(r);
        m_out.maybe_flush();
    }
    void report_failure(const TaskResult& r) override { m_out.report_failure(r); }
    void flush() override { m_out.flush(); }
    void finish() override { m_out.flush(); }
    void write_run(ResultRun& run) override { write_run_text(m_out, run); }

private:
    OutputBuffer m_out{1};
};

}  // namespace

std::unique_ptr<Sink> make_text_sink() { return std::make_unique<TextSink>(); }

}  // namespace ppool::cli
