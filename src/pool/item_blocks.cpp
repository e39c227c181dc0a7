#include "pool/item_blocks.hpp"

#include "ppool/errors.hpp"

#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

namespace {

/// Appends to `ends` the offset of every `separator` in data[at, size):
/// sixteen bytes at a time where SSE2 is there, as items are often a few
/// bytes long and a memchr call per item costs more than its search.
void find_separators(const char* data, std::size_t at, std::size_t size, char separator, std::vector<ItemRef>& ends) {
#if defined(__SSE2__)
    const __m128i wanted = _mm_set1_epi8(separator);
    // Counted first, so that the list grows once: a count costs far less
    // than a regrowth. Each byte lane counts up to 255 matches (a match is
    // -1, subtracted), then the lanes are summed.
    std::size_t count = 0;
    std::size_t i = at;
    while (i + 16 <= size) {
        __m128i lanes = _mm_setzero_si128();
        for (int k = 0; k < 255 && i + 16 <= size; ++k, i += 16) {
            auto block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + i));
            lanes = _mm_sub_epi8(lanes, _mm_cmpeq_epi8(block, wanted));
        }
        auto sums = _mm_sad_epu8(lanes, _mm_setzero_si128());
        count += static_cast<std::size_t>(_mm_cvtsi128_si32(sums)) +
                 static_cast<std::size_t>(_mm_extract_epi16(sums, 4));
    }
    for (; i < size; ++i) count += data[i] == separator;
    ends.reserve(ends.size() + count);
    for (; at + 16 <= size; at += 16) {
        auto block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + at));
        auto mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(block, wanted)));
        while (mask) {
            ends.push_back(ItemRef{0, at + static_cast<std::size_t>(__builtin_ctz(mask))});
            mask &= mask - 1;
        }
    }
#endif
    for (; at < size; ++at)
        if (data[at] == separator) ends.push_back(ItemRef{0, at});
}

}  // namespace

void BlockSplitter::cut(ItemBlock& out) {
    // What was held back has no separator: only the fresh bytes are searched,
    // so that a huge item costs linear time, not quadratic.
    const char* data = out.bytes.data();
    std::size_t size = out.bytes.size();
    find_separators(data, m_held, size, m_separator, out.items);
    std::size_t start = out.items.empty() ? 0 : out.items.back().end + 1;
    if (m_max_item < size) {
        std::size_t begin = 0;
        for (const auto& item : out.items) {
            if (item.end - begin > m_max_item)
                throw ItemTooLargeError(m_items + (&item - out.items.data()) + 1, m_max_item);
            begin = item.end + 1;
        }
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
