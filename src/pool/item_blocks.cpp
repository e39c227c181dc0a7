#include "pool/item_blocks.hpp"

#include "ppool/errors.hpp"

#include <algorithm>
#include <cstring>

namespace ppool::detail {

void BlockQueue::push_back(ItemBlock block) {
    if (block.items.empty()) return;
    m_size += block.items.size();
    m_blocks.push_back(Queued{std::move(block)});
}

void BlockQueue::push_front(ItemBlock block) {
    if (block.items.empty()) return;
    m_size += block.items.size();
    m_blocks.push_front(Queued{std::move(block)});
}

ItemBlock BlockQueue::take(std::uint64_t n) {
    ItemBlock out;
    n = std::min(n, m_size);
    m_size -= n;
    while (n > 0) {
        auto& q = m_blocks.front();
        auto left = q.block.items.size() - q.next;
        if (q.next == 0 && left <= n && out.items.empty()) {
            // A whole block: moved, not copied.
            out = std::move(q.block);
            n -= left;
            m_blocks.pop_front();
            continue;
        }
        auto k = static_cast<std::size_t>(std::min<std::uint64_t>(n, left));
        auto base = item_start(q.block.items, q.next);
        auto end = q.block.items[q.next + k - 1].end + 1;
        auto offset = out.bytes.size();
        out.bytes.append(q.block.bytes, base, end - base);
        for (std::size_t i = q.next; i < q.next + k; ++i)
            out.items.push_back(ItemRef{q.block.items[i].seq, q.block.items[i].end - base + offset});
        q.next += k;
        n -= k;
        if (q.next == q.block.items.size()) m_blocks.pop_front();
    }
    return out;
}

void BlockQueue::clear() {
    m_blocks.clear();
    m_size = 0;
}

void BlockSplitter::begin(ItemBlock& out) {
    out.items.clear();
    m_held = m_partial.size();
    out.bytes.swap(m_partial);
    m_partial.clear();
}

void BlockSplitter::cut(ItemBlock& out) {
    // What was held back has no separator: only the fresh bytes are searched,
    // so that a huge item costs linear time, not quadratic.
    const char* data = out.bytes.data();
    std::size_t size = out.bytes.size();
    std::size_t start = 0;
    std::size_t at = m_held;
    while (at < size) {
        const void* sep = std::memchr(data + at, m_separator, size - at);
        if (!sep) break;
        auto end = static_cast<std::size_t>(static_cast<const char*>(sep) - data);
        if (end - start > m_max_item) throw ItemTooLargeError(m_items + out.items.size() + 1, m_max_item);
        out.items.push_back(ItemRef{0, end});
        start = at = end + 1;
    }
    // The incomplete item is checked before it is kept: it must not grow without bound.
    if (size - start > m_max_item) throw ItemTooLargeError(m_items + out.items.size() + 1, m_max_item);
    m_items += out.items.size();
    if (start == 0) {
        // No item ended: all of it is held back, moved rather than copied.
        m_partial.swap(out.bytes);
        out.bytes.clear();
        return;
    }
    m_partial.assign(out.bytes, start);
    out.bytes.resize(start);
}

void BlockSplitter::finish(ItemBlock& out) {
    // What was held back is in `out` since begin(), unless cut() kept it since.
    out.bytes.append(m_partial);
    m_partial.clear();
    out.items.clear();
    if (out.bytes.empty()) return;
    out.items.push_back(ItemRef{0, out.bytes.size()});
    out.bytes += m_separator;
    ++m_items;
}

}  // namespace ppool::detail
