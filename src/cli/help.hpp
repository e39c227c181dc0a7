#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

namespace ppool::cli {

/// The layout of `ppool --help` and `ppool MODE --help`: usage lines per
/// mode, options in GNU columns ("-j, --processes N") under their group,
/// and, in `ppool --help`, the modes followed by every option of the pool
/// modes. The footer says what a task and an item are and the exit statuses.
std::shared_ptr<CLI::Formatter> make_help_formatter();

/// The text at the end of every help.
std::string help_footer();

}  // namespace ppool::cli
