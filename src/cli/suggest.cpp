#include "cli/suggest.hpp"

#include <algorithm>
#include <limits>

namespace ppool::cli {

namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view without_dashes(std::string_view s) {
    while (!s.empty() && s.front() == '-') s.remove_prefix(1);
    return s;
}

bool is_prefix(std::string_view prefix, std::string_view s) {
    if (prefix.empty() || prefix.size() > s.size()) return false;
    return std::equal(prefix.begin(), prefix.end(), s.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
    // Three rows of the dynamic-programming table: a transposition looks two back.
    std::vector<std::size_t> before(b.size() + 1), previous(b.size() + 1), current(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        current[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
            current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1]))
                current[j] = std::min(current[j], before[j - 2] + 1);
        }
        std::swap(before, previous);
        std::swap(previous, current);
    }
    return previous[b.size()];
}

std::optional<std::string> nearest(std::string_view word, const std::vector<std::string>& candidates) {
    std::string_view typed = without_dashes(word);
    std::size_t limit = typed.size() / 3;
    std::optional<std::string> best;
    std::size_t best_distance = std::numeric_limits<std::size_t>::max();
    for (const auto& candidate : candidates) {
        std::string_view name = without_dashes(candidate);
        std::size_t distance = edit_distance(typed, name);
        if (distance > limit && !is_prefix(typed, name)) continue;
        if (distance < best_distance) {
            best = candidate;
            best_distance = distance;
        }
    }
    return best;
}

std::optional<std::string> foreign_option_hint(std::string_view option) {
    struct Hint {
        std::string_view option;
        std::string_view hint;
    };
    static constexpr Hint k_hints[] = {
        {"-P", "xargs' -P N is -j N in ppool"},
        {"--max-procs", "xargs' --max-procs N is -j N in ppool"},
        {"--jobs", "GNU parallel's --jobs N is -j N (--processes N) in ppool"},
        {"-k", "the mode keeps the input order: 'ppool imap'; 'ppool imap-unordered' does not"},
        {"--keep-order", "the mode keeps the input order: 'ppool imap'; 'ppool imap-unordered' does not"},
        {"--no-keep-order", "'ppool imap-unordered' writes results as they finish"},
        {"-L", "an item is one line already: -N N gives a command N of them"},
        {"--max-lines", "an item is one line already: -N N gives a command N of them"},
        {"-i", "-I {} is the default: {} is the item"},
        {"--replace", "-I STR names the replacement string; {} is the default"},
        {"--arg-file", "-a FILE (--input FILE)"},
        {"--xapply", "--link"},
        {"--xargs", "-m"},
        {"--pipe-part", "--pipepart"},
        {"--slf", "--sshloginfile FILE"},
        {"--tf", "--transferfile FILE"},
        {"--halt-on-error", "--halt WHEN,WHY, as in --halt now,fail=1"},
        {"--resume-failed", "--resume reruns what did not succeed"},
        {"--retry-failed", "--resume reruns what did not succeed"},
    };
    for (const auto& [name, hint] : k_hints)
        if (option == name) return std::string(hint);
    return std::nullopt;
}

}  // namespace ppool::cli
