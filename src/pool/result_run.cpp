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
    r.error_type.assign(error_type);
    r.duration_s = duration_s();
    r.worker = worker;
    r.host.assign(host);
    r.attempts = attempts;
    return r;
}

ResultRun::ResultRun(const TaskResult& r) : m_data(std::make_shared<detail::RunData>()), m_begin(0), m_end(1) {
    auto& d = *m_data;
    d.worker = r.worker;
    if (r.host != ":") d.host = std::make_shared<const std::string>(r.host);
    d.is_command = r.is_command;
    d.inputs = std::make_shared<const std::string>(r.input + '\n');
    detail::RunEntry e;
    e.seq = r.seq;
    e.input_end = r.input.size();
    e.status = r.status;
    e.duration_ns = static_cast<std::uint64_t>(std::max(r.duration_s, 0.0) * 1e9 + 0.5);
    d.text = r.output;
    // Text output ends a registered task's result with a newline.
    if (!r.is_command && r.ok() && !r.large_output && (r.output.empty() || r.output.back() != '\n')) {
        d.text += '\n';
        e.added_newline = true;
    }
    e.output_end = d.text.size();
    d.entries.push_back(e);
    if (r.exit_code || r.signal || !r.stderr_text.empty() || !r.error.empty() || !r.error_type.empty() ||
        r.attempts != 1 || r.large_output ||
        r.large_stderr) {
        auto& m = d.more_of(0);
        m.exit_code = r.exit_code;
        m.signal = r.signal;
        m.stderr_size = r.stderr_text.size();
        d.extra = r.stderr_text;
        m.error_at = d.extra.size();
        m.error_size = r.error.size();
        d.extra += r.error;
        m.error_type_size = r.error_type.size();
        d.extra += r.error_type;
        m.attempts = r.attempts;
        m.large_output = r.large_output;
        m.large_stderr = r.large_stderr;
    }
}

std::uint64_t ResultRun::first_seq() const { return m_data->entries[m_begin].seq; }

ResultRun::Entry ResultRun::operator[](std::size_t i) const {
    const auto& d = *m_data;
    auto at = m_begin + i;
    const auto& s = d.entries[at];
    Entry e;
    e.seq = s.seq;
    e.input = d.input(at);
    e.status = s.status;
    auto output_start = d.output_start(at);
    e.output = std::string_view(d.text).substr(output_start,
                                               s.output_end - output_start - (s.added_newline ? 1 : 0));
    e.duration_ns = s.duration_ns;
    e.worker = d.worker;
    if (d.host) e.host = *d.host;
    e.is_command = d.is_command;
    if (s.more >= 0) {
        const auto& m = d.more[static_cast<std::size_t>(s.more)];
        e.exit_code = m.exit_code;
        e.signal = m.signal;
        e.stderr_text = std::string_view(d.extra).substr(m.stderr_at, m.stderr_size);
        e.error = std::string_view(d.extra).substr(m.error_at, m.error_size);
        e.error_type = std::string_view(d.extra).substr(m.error_at + m.error_size, m.error_type_size);
        e.attempts = m.attempts;
        e.large_output = m.large_output.get();
        e.large_stderr = m.large_stderr.get();
    }
    return e;
}

TaskResult ResultRun::result(std::size_t i) const {
    auto r = (*this)[i].to_result();
    if (const auto& s = m_data->entries[m_begin + i]; s.more >= 0) {
        const auto& m = m_data->more[static_cast<std::size_t>(s.more)];
        r.large_output = m.large_output;
        r.large_stderr = m.large_stderr;
    }
    return r;
}

TaskResult ResultRun::pop_result() {
    auto r = result(0);
    ++m_begin;
    return r;
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
    const auto& d = *m_data;
    if (d.all_plain) return true;
    for (std::size_t i = m_begin; i < m_end; ++i)
        if (!detail::is_plain(d, d.entries[i])) return false;
    return true;
}

bool ResultRun::has_failure() const {
    if (m_data->all_plain) return false;
    const auto& entries = m_data->entries;
    return std::any_of(entries.begin() + static_cast<std::ptrdiff_t>(m_begin),
                       entries.begin() + static_cast<std::ptrdiff_t>(m_end),
                       [](const detail::RunEntry& e) { return e.status != Status::ok; });
}

std::string_view ResultRun::text() const {
    if (empty()) return {};
    auto start = m_data->output_start(m_begin);
    return std::string_view(m_data->text).substr(start, m_data->entries[m_end - 1].output_end - start);
}

}  // namespace ppool
