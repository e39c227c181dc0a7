#pragma once

#include <cstdint>
#include <deque>
#include <limits>
#include <string>

#include "worker/chunk.hpp"

namespace ppool::detail {

/// A source that can hand out its items packed, as read, without a string per item.
class PackedSource {
public:
    virtual ~PackedSource() = default;
    /// Sets `out.bytes` and `out.count` to the complete items available now
    /// (maybe none); false once the input has ended and every item was delivered.
    virtual bool read_packed(PackedItems& out) = 0;
};

/// Packed items waiting for a worker, in order.
class PackedQueue {
public:
    /// Appends a block; its items follow those already queued.
    void push(PackedItems block);
    std::uint64_t size() const { return m_size; }
    bool empty() const { return m_size == 0; }
    /// Takes the first `n` items (at most size()) as one block.
    PackedItems take(std::uint64_t n);
    void clear();

private:
    struct Block {
        PackedItems items;
        std::size_t offset = 0;   ///< bytes already taken
        std::uint64_t taken = 0;  ///< items already taken
    };
    std::deque<Block> m_blocks;
    std::uint64_t m_size = 0;
};

/// The byte offset just past the `n`th item after `from` (n ≥ 1, the items must be there).
std::size_t skip_items(const std::string& bytes, std::size_t from, std::uint64_t n, char separator);

/// Splits a byte stream into blocks of whole items, whatever the read boundaries.
class PackedSplitter {
public:
    /// An item longer than `max_item` bytes throws ItemTooLargeError.
    explicit PackedSplitter(char separator, std::uint64_t max_item = std::numeric_limits<std::uint64_t>::max())
        : m_separator(separator), m_max_item(max_item) {}
    char separator() const { return m_separator; }
    /// Hands `out` what was held back; append freshly read bytes to it, then call `cut`.
    void begin(PackedItems& out);
    /// Keeps back the incomplete item at the end of `out` and counts the complete ones.
    void cut(PackedItems& out);
    /// At the end of a file, after begin(): the last item if it had no separator.
    void finish(PackedItems& out);

private:
    void check_sizes(const std::string& bytes, std::size_t complete) const;

    char m_separator;
    std::uint64_t m_max_item;
    std::uint64_t m_items = 0;  // delivered so far
    std::string m_partial;
    std::size_t m_held = 0;  // bytes of `m_partial` handed over by begin()
};

}  // namespace ppool::detail
