#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cli/options.hpp"
#include "ppool/item_source.hpp"

namespace ppool::cli {

/// Opens the inputs (the ::: items, or -a files in order, "-" or nothing for
/// stdin) as one item source; throws UsageError for a file that cannot be opened.
std::unique_ptr<ItemSource> open_inputs(const Options& options);

/// Reads every item of a source, waiting as needed (for map).
std::vector<std::string> read_all(ItemSource& source);

/// Calls `each` with every item of a source in order, waiting as needed.
void for_each_item(ItemSource& source, const std::function<void(std::string&)>& each);

/// `source` with every `n` items joined into one item, each followed by
/// `separator`: the chunks that --pipe writes to a command's stdin.
std::unique_ptr<ItemSource> group_items(std::unique_ptr<ItemSource> source, std::size_t n, char separator);

}  // namespace ppool::cli
