#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace ppool::detail {

/// Cuts a byte stream into items at a separator, whatever the read boundaries.
class Splitter {
public:
    /// An item longer than `max_item` bytes throws ItemTooLargeError.
    explicit Splitter(char separator, std::uint64_t max_item = std::numeric_limits<std::uint64_t>::max())
        : m_separator(separator), m_max_item(max_item) {}
    /// Appends the complete items in `data` (plus what was held back) to `out`.
    void feed(std::string_view data, std::vector<std::string>& out);
    /// At end of input: the last item if it had no separator.
    void finish(std::vector<std::string>& out);

private:
    void check_size(std::size_t size) const;

    char m_separator;
    std::uint64_t m_max_item;
    std::uint64_t m_items = 0;  // delivered so far
    std::string m_partial;
};

}  // namespace ppool::detail
