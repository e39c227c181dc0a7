#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ppool::cli {

/// The edit distance between `a` and `b`, ignoring ASCII case: insertions,
/// deletions, substitutions and transpositions of two neighbours cost 1 each
/// (optimal string alignment, the restricted Damerau-Levenshtein distance).
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate a mistyped `word` most likely meant, for a "did you mean"
/// hint; nullopt when none is close. Leading dashes are not part of the
/// comparison, so "--chunk-size" finds "--chunksize". A candidate is close when
/// it is at most a third of the word's length away (so a one-letter word needs
/// an exact match), or when the word is a prefix of it. The nearest wins; on a
/// tie, the one listed first.
std::optional<std::string> nearest(std::string_view word, const std::vector<std::string>& candidates);

/// For an option of GNU parallel or xargs that ppool spells otherwise or
/// does without (`-P`, `--jobs`, `-k`, `-L`, ...), the ppool way, for the
/// usage error's hint; nullopt for any other word.
std::optional<std::string> foreign_option_hint(std::string_view option);

}  // namespace ppool::cli
