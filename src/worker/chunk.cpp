#include "worker/chunk.hpp"

namespace ppool::detail {

ItemBlock Chunk::rest(std::size_t from) const {
    ItemBlock block;
    if (from >= items.size()) return block;
    auto base = item_start(items, from);
    block.bytes.assign(*bytes, base, items.back().end + 1 - base);
    block.items.reserve(items.size() - from);
    for (std::size_t i = from; i < items.size(); ++i) block.items.push_back(ItemRef{items[i].seq, items[i].end - base});
    return block;
}

}  // namespace ppool::detail
