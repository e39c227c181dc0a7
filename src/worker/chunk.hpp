#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ppool/task.hpp"

namespace ppool::detail {

/// An item in a buffer of items: its sequence number and the offset just
/// past its last byte. Items lie back to back, each followed by one byte
/// that is not part of it (the separator it was read with), so an item
/// starts one byte after the end of the one before it.
struct ItemRef {
    std::uint64_t seq = 0;
    std::size_t end = 0;
};

/// Where the item after `previous` starts (0 for the first).
inline std::size_t item_start(const std::vector<ItemRef>& items, std::size_t i) {
    return i == 0 ? 0 : items[i - 1].end + 1;
}

/// Items in one buffer, as an input hands them over and a job queues them.
struct ItemBlock {
    std::string bytes;
    std::vector<ItemRef> items;

    /// Appends an item (and the byte after it).
    void add(std::uint64_t seq, std::string_view data, char after = '\n') {
        bytes.append(data);
        items.push_back(ItemRef{seq, bytes.size()});
        bytes.push_back(after);
    }
    std::string_view item(std::size_t i) const {
        auto start = item_start(items, i);
        return std::string_view(bytes).substr(start, items[i].end - start);
    }
};

/// Items handed to one worker as a unit: one buffer and where each item ends.
/// The buffer is shared with the results of the chunk, which point into it.
struct Chunk {
    std::uint64_t job = 0;
    const TaskInfo* task = nullptr;  ///< the job's task, resolved once when the job was submitted
    std::shared_ptr<const std::string> bytes;
    std::vector<ItemRef> items;
    /// Set when the pool times each chunk itself (--timeout N%): then
    /// `timeout` is the limit of each of its items (none: no limit yet).
    bool timed_by_pool = false;
    std::optional<double> timeout;

    std::size_t size() const { return items.size(); }
    std::string_view item(std::size_t i) const {
        auto start = item_start(items, i);
        return std::string_view(*bytes).substr(start, items[i].end - start);
    }
    /// Items `from` on as a block of their own (copied).
    ItemBlock rest(std::size_t from) const;
};

}  // namespace ppool::detail
