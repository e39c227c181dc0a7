#pragma once

#include <string>
#include <string_view>

namespace ppool::worker {

/// Passes what a launcher writes on its stderr on to ppool's, in whole lines
/// only, so that ppool's own lines never land inside one; a line that never
/// ends goes out once it is long, and at the end. Keeps the last line, to
/// quote when the launcher fails.
class LineRelay {
public:
    /// Passes on the whole lines of what came so far with `data` (all of it `to_the_end`).
    void feed(std::string_view data, bool to_the_end = false);
    /// The last line, or the part of a line still held back; empty if none.
    std::string last_line() const { return m_partial.empty() ? m_last_line : m_partial; }

private:
    std::string m_partial;  // since the last newline passed on
    std::string m_last_line;
};

}  // namespace ppool::worker
