#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ppool::detail {

/// Cuts a byte stream into items at a separator, whatever the read boundaries.
class Splitter {
public:
    explicit Splitter(char separator) : m_separator(separator) {}
    /// Appends the complete items in `data` (plus what was held back) to `out`.
    void feed(std::string_view data, std::vector<std::string>& out);
    /// At end of input: the last item if it had no separator.
    void finish(std::vector<std::string>& out);

private:
    char m_separator;
    std::string m_partial;
};

}  // namespace ppool::detail
