#include "worker/chunk.hpp"

namespace ppool::detail {

std::vector<Item> unpack(Chunk& chunk) {
    const auto& p = chunk.packed;
    if (!p.count) return std::move(chunk.items);
    std::vector<Item> items;
    items.reserve(static_cast<std::size_t>(p.count));
    std::size_t at = 0;
    for (std::uint64_t i = 0; i < p.count; ++i) {
        auto end = p.bytes.find(p.separator, at);
        items.push_back(Item{p.first_seq + i, p.bytes.substr(at, end - at)});
        at = end + 1;
    }
    return items;
}

}  // namespace ppool::detail
