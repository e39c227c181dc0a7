#include "cli/encoding.hpp"
#include "cli/output.hpp"
#include "cli/sink.hpp"
#include "os/fd.hpp"
#include "ppool/errors.hpp"
#include "worker/command_template.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <system_error>

namespace ppool::cli {

void OutputBuffer::flush() {
    if (m_data.empty()) return;
    before_write();
    write_output(m_fd, m_data);
    m_data.clear();
}

void OutputBuffer::write_through(std::string_view data) {
    flush();
    write_output(m_fd, data);
}

void OutputBuffer::report_failure(const ResultRun::Entry& r) {
    flush();
    before_write();
    write_output(2, failure_line(r, m_options.chunk_separator, m_options.args_input));
}

std::string failure_line(const ResultRun::Entry& r, std::optional<char> chunk_separator, bool args_input) {
    // One line whatever the item or the reason hold.
    std::string what = chunk_separator
                           ? fmt::format("chunk of {} items", std::count(r.input.begin(), r.input.end(), *chunk_separator))
                           : printable(args_input ? worker::join_args(r.input) : std::string(r.input));
    return fmt::format("ppool: task {} ({}) failed: {}\n", r.seq, what, printable(r.describe_failure(), 4096));
}

std::string line_tag(const SinkOptions& options, std::string_view input, std::uint64_t seq, int worker) {
    if (options.tag_of) return options.tag_of(input, seq, worker);
    return tag_text(options.args_input ? worker::join_args(input) : std::string(input)) + '\t';
}

void append_tagged(std::string& out, std::string_view tag, std::string_view text, bool& at_start) {
    while (!text.empty()) {
        if (at_start) out += tag;
        auto nl = text.find('\n');
        std::size_t n = nl == std::string_view::npos ? text.size() : nl + 1;
        out.append(text.substr(0, n));
        at_start = nl != std::string_view::npos;
        text.remove_prefix(n);
    }
}

namespace {

class TextSink final : public Sink {
public:
    explicit TextSink(SinkOptions options) : m_options(std::move(options)) {}
    void write(ResultRun& run) override {
        // In input order: the task after the last of these is the next to be written.
        if (m_options.stream_next && !run.empty()) m_next = run[run.size() - 1].seq + 1;
        if (m_options.outputs_kept) {
            for (std::size_t i = 0; i < run.size(); ++i)
                if (auto r = run[i]; !r.ok()) report_failure(r);
            run.clear();
            return;
        }
        if (!m_options.tag && run.plain()) {
            // The usual case: the outputs as the worker sent them, in one piece.
            write_text(run.text());
            run.clear();
            return;
        }
        while (!run.empty()) write_one(run.pop());
    }
    std::size_t write_part(std::uint64_t seq, std::string_view data) override {
        if (!m_options.stream_next || seq != m_next) return 0;
        m_out.flush();
        if (!m_widened) {
            os::widen_pipe(1);
            m_widened = true;
        }
        // Only while the reader keeps taking it: one that stops must not stall
        // the pool (the other tasks' outputs wait in it), so what it leaves is
        // held and written when the task ends, as any output is.
        m_out.before_write();
        auto written = writing([&] { return os::write_while_taken(1, data, k_stall_ms); });
        if (written) m_streamed = seq;
        return written;
    }
    void report_failure(const ResultRun::Entry& r) override { m_out.report_failure(r); }
    void flush() override { m_out.flush(); }
    void finish() override { m_out.flush(); }

private:
    void write_text(std::string_view text) {
        if (m_out.data().empty() && text.size() >= OutputBuffer::k_limit) {
            // A large run goes out as it is, with no copy.
            m_out.write_through(text);
            return;
        }
        m_out.data() += text;
        m_out.maybe_flush();
    }

    void write_one(const ResultRun::Entry& r) {
        if (m_options.tag) {
            write_tagged(r);
        } else if (r.seq == m_streamed) {
            // Its stdout began to go out as it ran: the rest of it first, its stderr after.
            write_output(r);
            write_stderr(r);
        } else {
            write_stderr(r);
            write_output(r);
        }
        if (!r.ok()) report_failure(r);
        m_out.maybe_flush();
    }

    /// A command's stderr goes out as one block, next to its result.
    void write_stderr(const ResultRun::Entry& r) {
        if (r.stderr_text.empty() && !r.large_stderr) return;
        m_out.flush();
        m_out.before_write();
        cli::write_output(2, r.stderr_text);
        if (r.large_stderr) r.large_stderr->for_each_block([](std::string_view b) { cli::write_output(2, b); });
    }

    void write_output(const ResultRun::Entry& r) {
        char last = r.output.empty() ? '\0' : r.output.back();
        if (r.large_output) {
            // Straight from the spill file to stdout: by sendfile where it
            // can (a command's output needs no look at its last byte), else
            // a block at a time.
            m_out.flush();
            m_out.before_write();
            if (r.is_command && send_large(*r.large_output)) return;
            r.large_output->for_each_block([&](std::string_view b) {
                cli::write_output(1, b);
                last = b.back();
            });
        } else {
            m_out.data() += r.output;
        }
        if (!r.is_command && r.ok() && last != '\n') m_out.data() += '\n';
    }

    /// Sends a large output to stdout with no copy through this process; false if it cannot.
    static bool send_large(const LargeOutput& large) {
        return writing([&] { return large.send_to(1); });
    }

    /// --tag: every line of stderr and stdout starts with the item and a TAB.
    void write_tagged(const ResultRun::Entry& r) {
        std::string tag = line_tag(m_options, r.input, r.seq, r.worker);
        if (!r.stderr_text.empty() || r.large_stderr) {
            m_out.flush();
            m_out.before_write();
            write_tagged_stream(2, tag, r.stderr_text, r.large_stderr);
        }
        if (r.large_output) {
            m_out.flush();
            m_out.before_write();
            write_tagged_stream(1, tag, r.output, r.large_output);
        } else if (!r.output.empty()) {
            bool at_start = true;
            append_tagged(m_out.data(), tag, r.output, at_start);
            if (!at_start) m_out.data() += '\n';
        } else if (!r.is_command && r.ok()) {
            m_out.data() += tag + '\n';
        }
    }

    static void write_tagged_stream(int fd, const std::string& tag, std::string_view text, const LargeOutput* large) {
        bool at_start = true;
        std::string piece;
        auto put = [&](std::string_view b) {
            piece.clear();
            append_tagged(piece, tag, b, at_start);
            cli::write_output(fd, piece);
        };
        put(text);
        if (large) large->for_each_block(put);
        if (!at_start) cli::write_output(fd, "\n");
    }

    SinkOptions m_options;
    OutputBuffer m_out{1, m_options};
    std::uint64_t m_next = 1;      // with stream_next: the task to be written next
    std::uint64_t m_streamed = 0;  // the last task whose stdout went out as it ran
    bool m_widened = false;        // stdout was widened, if a pipe, before the first part
    /// How long a part waits for a reader that takes nothing, before it is held.
    static constexpr int k_stall_ms = 100;
};

}  // namespace

std::unique_ptr<Sink> make_text_sink(SinkOptions options) { return std::make_unique<TextSink>(std::move(options)); }

}  // namespace ppool::cli
