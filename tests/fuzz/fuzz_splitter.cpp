// Fuzzes the input splitter for both separators ('\n' and '\0').
// Properties: feeding the input in pieces gives the items of feeding it at
// once; no item holds a separator; the items joined by the separator, plus
// one at the end if the input ended with one, are the input. The block
// splitter, fed the same pieces, gives blocks holding the same items.

#include "pool/item_blocks.hpp"
#include "pool/splitter.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using ppool::detail::Splitter;

namespace {

/// Aborts with `what` unless `ok`, so libFuzzer records the input.
void require(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "property violated: %s\n", what);
    std::abort();
}

std::vector<std::string> split_at_once(std::string_view input, char separator) {
    Splitter splitter(separator);
    std::vector<std::string> items;
    splitter.feed(input, items);
    splitter.finish(items);
    return items;
}

/// Pieces of 1..15 bytes, sized by the input's own bytes so the split is
/// the same on every replay; a 0 adds an empty read before a 1-byte piece.
std::vector<std::string> split_in_pieces(std::string_view input, char separator) {
    Splitter splitter(separator);
    std::vector<std::string> items;
    std::size_t at = 0;
    for (std::size_t i = 0; at < input.size(); ++i) {
        auto n = static_cast<std::size_t>(static_cast<unsigned char>(input[i % input.size()]) % 16);
        if (n == 0) {
            splitter.feed({}, items);
            n = 1;
        }
        splitter.feed(input.substr(at, n), items);
        at += n;
    }
    splitter.finish(items);
    // A second finish has nothing left to give.
    auto count = items.size();
    splitter.finish(items);
    require(items.size() == count, "finish twice adds nothing");
    return items;
}

/// The items of the block splitter, fed pieces of 1..15 bytes as above.
std::vector<std::string> split_blocks(std::string_view input, char separator) {
    ppool::detail::BlockSplitter splitter(separator);
    std::vector<std::string> items;
    auto take = [&](const ppool::detail::ItemBlock& block) {
        require(block.items.empty() ? block.bytes.empty() : block.bytes.size() == block.items.back().end + 1,
                "a block is its items");
        for (std::size_t i = 0; i < block.items.size(); ++i) {
            require(block.bytes[block.items[i].end] == separator, "each item is followed by its separator");
            items.emplace_back(block.item(i));
        }
    };
    std::size_t at = 0;
    for (std::size_t i = 0; at < input.size(); ++i) {
        auto n = std::max<std::size_t>(1, static_cast<unsigned char>(input[i % input.size()]) % 16);
        ppool::detail::ItemBlock block;
        splitter.begin(block);
        block.bytes.append(input.substr(at, n));
        splitter.cut(block);
        take(block);
        at += n;
    }
    ppool::detail::ItemBlock last;
    splitter.begin(last);
    splitter.finish(last);
    take(last);
    return items;
}

void check_separator(std::string_view input, char separator) {
    auto whole = split_at_once(input, separator);
    require(split_in_pieces(input, separator) == whole, "read boundaries do not change the items");
    require(split_blocks(input, separator) == whole, "blocks hold the same items");

    std::string joined;
    for (std::size_t i = 0; i < whole.size(); ++i) {
        require(whole[i].find(separator) == std::string::npos, "no item holds the separator");
        if (i > 0) joined += separator;
        joined += whole[i];
    }
    if (!input.empty() && input.back() == separator) joined += separator;
    require(joined == input, "the items and separators rebuild the input");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    check_separator(input, '\n');
    check_separator(input, '\0');
    return 0;
}
