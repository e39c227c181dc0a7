#pragma once

#include <cstdint>
#include <deque>
#include <limits>
#include <string>

#include "worker/chunk.hpp"

namespace ppool::detail {

/// A source that hands out its items as blocks, as read, without a string per item.
class BlockSource {
public:
    virtual ~BlockSource() = default;
    /// Sets `out` to the complete items available now (maybe none; their
    /// sequence numbers are left to the caller); false once the input has
    /// ended and every item was delivered.
    virtual bool read_block(ItemBlock& out) = 0;
};

/// Items waiting for a worker, in order, as the blocks they came in.
class BlockQueue {
public:
    /// Appends a block; its items follow those already queued.
    void push_back(ItemBlock block);
    /// Puts a block before everything queued.
    void push_front(ItemBlock block);
    std::uint64_t size() const { return m_size; }
    bool empty() const { return m_size == 0; }
    /// Takes the first `n` items (at most size()) as one block: moved when
    /// they are a whole block, else copied.
    ItemBlock take(std::uint64_t n);
    void clear();

private:
    struct Queued {
        ItemBlock block;
        std::size_t next = 0;  ///< items already taken
    };
    std::deque<Queued> m_blocks;
    std::uint64_t m_size = 0;
};

/// Splits a byte stream into blocks of whole items, whatever the read
/// boundaries: the bytes stay as read, separators and all.
class BlockSplitter {
public:
    /// An item longer than `max_item` bytes throws ItemTooLargeError.
    explicit BlockSplitter(char separator, std::uint64_t max_item = std::numeric_limits<std::uint64_t>::max())
        : m_separator(separator), m_max_item(max_item) {}
    char separator() const { return m_separator; }
    /// Hands `out` what was held back; append freshly read bytes to `out.bytes`, then call `cut`.
    void begin(ItemBlock& out);
    /// Keeps back the incomplete item at the end of `out` and lists the complete ones.
    void cut(ItemBlock& out);
    /// At the end of a file, after begin(): the last item if it had no separator.
    void finish(ItemBlock& out);

private:
    char m_separator;
    std::uint64_t m_max_item;
    std::uint64_t m_items = 0;  // delivered so far
    std::string m_partial;
    std::size_t m_held = 0;  // bytes of `m_partial` handed over by begin()
};

}  // namespace ppool::detail
