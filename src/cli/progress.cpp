#include "cli/progress.hpp"

#include "cli/output.hpp"

#include <fmt/format.h>
#include <unistd.h>

namespace ppool::cli {

namespace {

std::string clock_text(double seconds) {
    auto s = static_cast<std::uint64_t>(seconds + 0.5);
    if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
    return fmt::format("{}:{:02}", s / 60, s % 60);
}

}  // namespace

std::string progress_text(const ProgressCounts& c, double elapsed_s) {
    std::string line = "ppool: ";
    line += c.total ? fmt::format("{}/{} done", c.done, *c.total) : fmt::format("{} done", c.done);
    line += fmt::format(", {} failed, {} running", c.failed, c.running);
    double rate = elapsed_s > 0 ? static_cast<double>(c.done) / elapsed_s : 0;
    line += fmt::format(", {:.1f}/s", rate);
    if (c.total && rate > 0 && c.done < *c.total)
        line += ", ETA " + clock_text(static_cast<double>(*c.total - c.done) / rate);
    return line;
}

std::string progress_bar(const ProgressCounts& c, double elapsed_s, std::size_t width) {
    if (!c.total) return progress_text(c, elapsed_s);
    std::size_t percent = *c.total == 0 ? 100 : static_cast<std::size_t>(c.done * 100 / *c.total);
    std::size_t filled = *c.total == 0 ? width : static_cast<std::size_t>(c.done * width / *c.total);
    auto text = progress_text(c, elapsed_s);
    return fmt::format("[{}{}] {:3}% {}", std::string(filled, '#'), std::string(width - filled, '.'), percent,
                       std::string_view(text).substr(7));
}

Progress::Progress(ProgressWhen when, bool bar) : m_bar(bar) {
    m_terminal = ::isatty(2) == 1;
    m_enabled = when == ProgressWhen::always || (when == ProgressWhen::terminal && m_terminal);
}

void Progress::update(const ProgressCounts& counts) {
    if (!m_enabled) return;
    auto now = Clock::now();
    // Throttled even after a clear, so that a fast stream of results does not redraw per result.
    if (now - m_last < std::chrono::duration<double>(interval_s())) return;
    m_last = now;
    draw(counts, false);
}

void Progress::clear() {
    if (!m_enabled || !m_terminal || !m_shown) return;
    write_output(2, "\r\x1b[K");
    m_shown = false;
}

void Progress::finish(const ProgressCounts& counts) {
    if (!m_enabled) return;
    draw(counts, true);
}

void Progress::draw(const ProgressCounts& counts, bool last) {
    // A log gets no repeat of its last counts at the end.
    if (!m_terminal && last && m_drawn == counts) return;
    m_drawn = counts;
    double elapsed = std::chrono::duration<double>(Clock::now() - m_start).count();
    std::string line = m_bar && m_terminal ? progress_bar(counts, elapsed) : progress_text(counts, elapsed);
    // In place on a terminal; whole lines anywhere else.
    if (m_terminal)
        line = "\r" + line + "\x1b[K" + (last ? "\n" : "");
    else
        line += '\n';
    write_output(2, line);
    m_shown = m_terminal && !last;
}

}  // namespace ppool::cli
