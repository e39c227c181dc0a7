#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ppool::worker {

/// How a replacement string stands within the script that parses it: bare,
/// inside '...', or inside "...".
enum class ShellContext { bare, single_quoted, double_quoted };

/// An old-style `...` command substitution. Before its text is parsed as a
/// script of its own, sh removes the backslash before \ ` and $, and before "
/// as well when the substitution stands inside "...".
enum class Backquote { plain, in_double_quotes };

/// Where a replacement string stands in a shell script: the `...` around it,
/// outermost first, and its context within the innermost of them.
struct ShellPlace {
    std::vector<Backquote> backquotes;
    ShellContext context = ShellContext::bare;

    bool operator==(const ShellPlace&) const = default;
};

/// Quotes `value` for /bin/sh so that it is always one literal word.
std::string shell_quote(std::string_view value);

/// Quotes `value` so that, placed in `context`, it is exactly one literal piece of text.
std::string quote_for(ShellContext context, std::string_view value);

/// Quotes `value` for `place`: for its context, then escaped once for every
/// `...` around it, innermost first, so that each level's backslash removal
/// gives back the text the level inside it parses.
std::string quote_for(const ShellPlace& place, std::string_view value);

/// Follows the quoting of a shell script one character at a time, as sh reads
/// it: '...', "...", backslashes, $(...) and `...`, which nest in one another.
/// The text inside backquotes is followed as sh parses it: after the backslash
/// removal, as a script of its own.
class QuoteTracker {
public:
    /// Where the next character stands.
    ShellPlace place() const;
    /// Whether a backslash, at some level, escapes the next character: a
    /// replacement string cannot start there.
    bool escaped() const;
    /// Consumes the next character of the script.
    void feed(char c) { feed(0, c); }

private:
    enum class Frame { bare, single, dquote, subst };
    /// The script itself, or the text inside one pair of backquotes.
    struct Script {
        Backquote backquote = Backquote::plain;  ///< how it opened; unused for the outermost
        std::vector<Frame> frames{Frame::bare};
        /// The last character was a backslash that escapes the next one (while
        /// a `...` inside is open: a backslash in that substitution's text).
        bool backslash = false;
        bool dollar = false;  ///< the last character was an unescaped $
    };

    void feed(std::size_t level, char c);
    void scan_backquoted(std::size_t level, char c);
    static bool parse(Script& script, char c);

    std::vector<Script> m_levels{1};
};

}  // namespace ppool::worker
