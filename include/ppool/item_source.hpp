#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace ppool {

/// Where a streaming job's items come from: memory or a descriptor that the
/// pool's event loop waits on, so reading input never stalls the results.
class ItemSource {
public:
    virtual ~ItemSource() = default;
    /// A descriptor to wait on for more input, or -1 if `read_more` never blocks.
    virtual int fd() const = 0;
    /// Appends the items that are available now (maybe none); false once the
    /// input has ended and every item has been delivered.
    virtual bool read_more(std::vector<std::string>& out) = 0;
};

/// Items held in memory.
std::unique_ptr<ItemSource> items_from(std::vector<std::string> items);

/// No limit on the size of an item.
inline constexpr std::uint64_t k_no_item_limit = std::numeric_limits<std::uint64_t>::max();

/// Items separated by `separator` (a newline or a NUL) read from the descriptors in
/// turn (which the source closes). A final item without a separator counts; a
/// trailing separator does not start an empty item. An item longer than
/// `max_item_size` bytes throws ItemTooLargeError from `read_more` as soon as
/// the bytes read show it, so memory never holds more than that of one item.
std::unique_ptr<ItemSource> items_from_fds(std::vector<int> fds, char separator,
                                           std::uint64_t max_item_size = k_no_item_limit);

}  // namespace ppool
