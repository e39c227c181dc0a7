#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "cli/options.hpp"

namespace ppool::cli {

/// What the progress line shows.
struct ProgressCounts {
    std::uint64_t done = 0;
    std::uint64_t failed = 0;
    std::uint64_t running = 0;
    std::optional<std::uint64_t> total;  ///< from the start where it is known, else once the input has ended
    bool operator==(const ProgressCounts&) const = default;
};

/// The progress line's text: "ppool: 1200/5000 done, 3 failed, 8 running, 240.5/s, ETA 0:16".
std::string progress_text(const ProgressCounts& counts, double elapsed_s);
/// The same as a bar, `width` columns of it:
/// "[#######.............]  35% 1200/5000 done, 3 failed, 8 running, 240.5/s, ETA 0:16".
std::string progress_bar(const ProgressCounts& counts, double elapsed_s, std::size_t width = 20);

/// The --progress line on stderr. On a terminal it is redrawn in place (at
/// most 5 times a second) and cleared before anything else is written;
/// elsewhere (--progress=always) it is one line per second. Never touches stdout.
class Progress {
public:
    using Clock = std::chrono::steady_clock;

    /// Off unless `when` asks for it (terminal: only if stderr is one); as a
    /// bar on a terminal with `bar`.
    explicit Progress(ProgressWhen when, bool bar = false);
    bool enabled() const { return m_enabled; }
    /// How long the caller may wait before the line is due again.
    double interval_s() const { return m_terminal ? 0.2 : 1.0; }
    /// Draws the line if it is due.
    void update(const ProgressCounts& counts);
    /// Removes the line from a terminal before other output (no-op elsewhere).
    void clear();
    /// The last line, left in place.
    void finish(const ProgressCounts& counts);

private:
    void draw(const ProgressCounts& counts, bool last);

    bool m_enabled = false;
    bool m_terminal = false;
    bool m_bar = false;
    bool m_shown = false;
    Clock::time_point m_start = Clock::now();
    Clock::time_point m_last{};
    std::optional<ProgressCounts> m_drawn;  ///< the counts of the line drawn last
};

}  // namespace ppool::cli
