#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/options.hpp"
#include "ppool/item_source.hpp"

namespace ppool::cli {

/// Opens the inputs (the ::: items, or -a files in order, "-" or nothing for
/// stdin) as one item source; throws UsageError for a file that cannot be opened.
std::unique_ptr<ItemSource> open_inputs(const Options& options);

/// A descriptor to read the input file `path` from ("-": a copy of stdin);
/// UsageError for one that cannot be read, or a directory.
int open_input(const std::string& path);

/// Reads every item of a source, waiting as needed (for map).
std::vector<std::string> read_all(ItemSource& source);

/// The records of the regular file `path` ended by `separator` (the last one
/// may lack it); nothing when it is not a regular file or cannot be read.
std::optional<std::uint64_t> count_records(const std::string& path, char separator);

/// Calls `each` with every item of a source in order, waiting as needed.
void for_each_item(ItemSource& source, const std::function<void(std::string&)>& each);

/// `source` with every `n` items joined into one item, each followed by
/// `separator`: the chunks that --pipe writes to a command's stdin.
std::unique_ptr<ItemSource> group_items(std::unique_ptr<ItemSource> source, std::size_t n, char separator);

}  // namespace ppool::cli
