#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ppool/pool.hpp"

namespace CLI {
class App;
}

namespace ppool::cli {

struct Options;

/// --halt as GNU parallel spells it: "never", "now|soon,fail|success|done=N"
/// or "=N%", and the old numbers 0, 1, 2, -1, -2 and 1-99%; nothing for anything else.
std::optional<HaltRule> parse_halt(std::string_view text);

/// A duration as GNU parallel takes it: seconds, maybe with a fraction, or
/// numbers each followed by s, m, h or d, added up ("1m30s", "1.5h"); 0
/// is allowed. Nothing for anything else.
std::optional<double> parse_duration(std::string_view text);

/// --load as GNU parallel takes it: a number (0 is 0.01), or N% of `cpus`.
std::optional<double> parse_load(std::string_view text, unsigned cpus);

/// The halting and pacing options as typed, checked by check_pacing.
struct PacingOptions {
    std::optional<std::string> halt;
    std::optional<std::string> delay;
    std::optional<std::string> load;
    std::optional<std::string> memfree;
};

/// Adds --halt, --delay, --load and --memfree to a mode that takes items.
void add_pacing_options(CLI::App& sub, PacingOptions& raw);
/// Converts them into `o`; a usage error quoting a value that is not one.
void check_pacing(Options& o, const PacingOptions& raw);
/// --timeout as typed: seconds (GNU's s, m, h, d allowed) or N% of the median run time.
void check_timeout(Options& o, const std::string& typed);

}  // namespace ppool::cli
