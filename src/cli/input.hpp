#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/options.hpp"
#include "ppool/item_source.hpp"

namespace ppool::cli {

/// Opens the inputs (-a files in order, "-" or nothing for stdin) as one
/// item source; throws UsageError for a file that cannot be opened.
std::unique_ptr<ItemSource> open_inputs(const Options& options);

/// Reads every item of a source, waiting as needed (for map).
std::vector<std::string> read_all(ItemSource& source);

}  // namespace ppool::cli
