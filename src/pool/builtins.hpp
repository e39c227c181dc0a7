#pragma once

#include <string>
#include <string_view>

namespace ppool {
class TaskRegistry;
}

namespace ppool::detail {

/// Adds identity, len, upper, lower, sleep, wc and sha256sum.
void register_builtins(TaskRegistry& registry);

/// `wc FILE` output: lines, words and bytes padded to a common width, then the name.
std::string wc_file(std::string_view path);
/// `sha256sum FILE` output: the hex digest, two spaces, the name.
std::string sha256_file(std::string_view path);

}  // namespace ppool::detail
