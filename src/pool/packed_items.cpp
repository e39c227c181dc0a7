#include "pool/packed_items.hpp"

#include "ppool/errors.hpp"

#include <algorithm>
#include <cstring>

namespace ppool::detail {

std::size_t skip_items(const std::string& bytes, std::size_t from, std::uint64_t n, char separator) {
    // Items are often a few bytes, shorter than a memchr call is worth: whole
    // windows are counted (a vectorised loop) while they hold fewer than `n`.
    constexpr std::size_t k_window = 256;
    std::size_t at = from;
    while (bytes.size() - at > k_window) {
        auto in_window = static_cast<std::uint64_t>(
            std::count(bytes.data() + at, bytes.data() + at + k_window, separator));
        if (in_window >= n) break;
        n -= in_window;
        at += k_window;
    }
    for (; at < bytes.size(); ++at)
        if (bytes[at] == separator && --n == 0) return at + 1;
    return at;
}

void PackedQueue::push(PackedItems block) {
    if (block.count == 0) return;
    m_size += block.count;
    m_blocks.push_back(Block{std::move(block)});
}

PackedItems PackedQueue::take(std::uint64_t n) {
    PackedItems out;
    n = std::min(n, m_size);
    if (n == 0) return out;
    out.first_seq = m_blocks.front().items.first_seq + m_blocks.front().taken;
    out.separator = m_blocks.front().items.separator;
    out.count = n;
    m_size -= n;
    while (n > 0) {
        auto& block = m_blocks.front();
        std::uint64_t left = block.items.count - block.taken;
        if (n < left) {
            auto end = skip_items(block.items.bytes, block.offset, n, out.separator);
            out.bytes.append(block.items.bytes, block.offset, end - block.offset);
            block.offset = end;
            block.taken += n;
            break;
        }
        // The whole rest of the block: moved when it is all of the chunk.
        if (out.bytes.empty() && block.offset == 0) out.bytes = std::move(block.items.bytes);
        else out.bytes.append(block.items.bytes, block.offset);
        n -= left;
        m_blocks.pop_front();
    }
    return out;
}

void PackedQueue::clear() {
    m_blocks.clear();
    m_size = 0;
}

void PackedSplitter::begin(PackedItems& out) {
    out.count = 0;
    m_held = m_partial.size();
    out.bytes.swap(m_partial);
    m_partial.clear();
}

void PackedSplitter::check_sizes(const std::string& bytes, std::size_t complete) const {
    // Nothing to look at when the whole block is within the limit, as it
    // nearly always is: the items are only walked when one may be too long.
    if (bytes.size() <= m_max_item) return;
    std::uint64_t seq = m_items;
    std::size_t start = 0;
    // What was held back holds no separator: the first one is in the fresh bytes.
    std::size_t from = std::min(m_held, complete);
    while (start < complete) {
        const void* sep = std::memchr(bytes.data() + from, m_separator, complete - from);
        auto end = static_cast<std::size_t>(static_cast<const char*>(sep) - bytes.data());
        ++seq;
        if (end - start > m_max_item) throw ItemTooLargeError(seq, m_max_item);
        start = from = end + 1;
    }
    // The incomplete item kept for the next block.
    if (bytes.size() - complete > m_max_item) throw ItemTooLargeError(seq + 1, m_max_item);
}

void PackedSplitter::cut(PackedItems& out) {
    // What was held back has no separator: only the fresh bytes are searched,
    // so that a huge item costs linear time, not quadratic.
    const char* fresh = out.bytes.data() + m_held;
    const void* last = ::memrchr(fresh, m_separator, out.bytes.size() - m_held);
    auto keep = last ? static_cast<std::size_t>(static_cast<const char*>(last) - out.bytes.data()) + 1 : 0;
    check_sizes(out.bytes, keep);
    if (!last) {
        m_partial.swap(out.bytes);
        out.bytes.clear();
        return;
    }
    m_partial.assign(out.bytes, keep);
    out.bytes.resize(keep);
    out.count = static_cast<std::uint64_t>(std::count(out.bytes.begin(), out.bytes.end(), m_separator));
    m_items += out.count;
}

void PackedSplitter::finish(PackedItems& out) {
    // What was held back is in `out` since begin(), unless cut() kept it since.
    out.bytes.append(m_partial);
    m_partial.clear();
    out.count = 0;
    if (out.bytes.empty()) return;
    out.bytes += m_separator;
    out.count = 1;
    ++m_items;
}

}  // namespace ppool::detail
