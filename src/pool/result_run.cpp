#include "ppool/result_run.hpp"

#include "pool/run_data.hpp"

#include <algorithm>

namespace ppool {

std::string ResultRun::Entry::describe_failure() const {
    return detail::describe_failure(status, exit_code, signal, error);
}

TaskResult ResultRun::Entry::to_result() const {
    TaskResult r;
    r.seq = seq;
    r.input.assign(input);
    r.status = status;
    r.output.assign(output);
    r.stderr_text.assign(stderr_text);
    r.is_command = is_command;
    r.exit_code = exit_code;
    r.signal = signal;
    r.error.assign(error);
    r.duration_s = duration_s();
    r.worker = worker;
    r.attempts = attempts;
    r.large_output = large_output;
    r.large_stderr = large_stderr;
    return r;
}

ResultRun::ResultRun(const TaskResult& r) : m_data(std::make_shared<detail::RunData>()), m_begin(0), m_end(1) {
    auto& d = *m_data;
    d.worker = r.worker;
    d.is_command = r.is_command;
    d.inputs = std::make_shared<const std::string>(r.input);
    detail::RunEntry e;
    e.seq = r.seq;
    e.input_size = r.input.size();
    e.status = r.status;
    e.has_exit = r.exit_code.has_value();
    e.exit_code = r.exit_code.value_or(0);
    e.has_signal = r.signal.has_value();
    e.signal = r.signal.value_or(0);
    e.duration_ns = static_cast<std::uint64_t>(std::max(r.duration_s, 0.0) * 1e9 + 0.5);
    e.attempts = r.attempts;
    d.text = r.output;
    e.output_size = r.output.size();
    // Text output ends a registered task's result with a newline.
    if (!r.is_command && r.ok() && !r.large_output && (r.output.empty() || r.output.back() != '\n')) {
        d.text += '\n';
        e.output_size += 1;
        e.added_newline = true;
    }
    e.stderr_size = r.stderr_text.size();
    d.extra = r.stderr_text;
    e.error_at = d.extra.size();
    e.error_size = r.error.size();
    d.extra += r.error;
    if (r.large_output || r.large_stderr) {
        e.large = 0;
        d.large.push_back(detail::LargeParts{r.large_output, r.large_stderr});
    }
    d.entries.push_back(e);
}

std::uint64_t ResultRun::first_seq() const { return m_data->entries[m_begin].seq; }

ResultRun::Entry ResultRun::operator[](std::size_t i) const {
    const auto& d = *m_data;
    const auto& s = d.entries[m_begin + i];
    Entry e;
    e.seq = s.seq;
    e.input = std::string_view(*d.inputs).substr(s.input_at, s.input_size);
    e.status = s.status;
    if (s.has_exit) e.exit_code = s.exit_code;
    if (s.has_signal) e.signal = s.signal;
    e.output = std::string_view(d.text).substr(s.output_at, s.output_size - (s.added_newline ? 1 : 0));
    e.stderr_text = std::string_view(d.extra).substr(s.stderr_at, s.stderr_size);
    e.error = std::string_view(d.extra).substr(s.error_at, s.error_size);
    e.duration_ns = s.duration_ns;
    e.worker = d.worker;
    e.attempts = s.attempts;
    e.is_command = d.is_command;
    if (s.large >= 0) {
        const auto& large = d.large[static_cast<std::size_t>(s.large)];
        e.large_output = large.output;
        e.large_stderr = large.stderr_text;
    }
    return e;
}

ResultRun::Entry ResultRun::pop() {
    auto e = (*this)[0];
    ++m_begin;
    return e;
}

ResultRun ResultRun::take_front(std::size_t n) {
    n = std::min(n, size());
    ResultRun front(m_data, m_begin, m_begin + n);
    m_begin += n;
    return front;
}

bool ResultRun::plain() const {
    const auto& entries = m_data->entries;
    return std::all_of(entries.begin() + static_cast<std::ptrdiff_t>(m_begin),
                       entries.begin() + static_cast<std::ptrdiff_t>(m_end), detail::is_plain);
}

bool ResultRun::has_failure() const {
    const auto& entries = m_data->entries;
    return std::any_of(entries.begin() + static_cast<std::ptrdiff_t>(m_begin),
                       entries.begin() + static_cast<std::ptrdiff_t>(m_end),
                       [](const detail::RunEntry& e) { return e.status != Status::ok; });
}

std::string_view ResultRun::text() const {
    if (empty()) return {};
    const auto& first = m_data->entries[m_begin];
    const auto& last = m_data->entries[m_end - 1];
    return std::string_view(m_data->text).substr(first.output_at, last.output_at + last.output_size - first.output_at);
}

}  // namespace ppool
