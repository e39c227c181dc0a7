#include "worker/shell_quote.hpp"

#include <utility>

namespace ppool::worker {

namespace {

/// Whether sh removes a backslash before `c` in the text of a `...` of this kind.
bool removes_backslash(Backquote kind, char c) {
    return c == '\\' || c == '`' || c == '$' || (c == '"' && kind == Backquote::in_double_quotes);
}

/// `text` as it must be written inside a `...` of this kind for sh to parse `text`.
std::string escape_backquoted(Backquote kind, std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 4);
    for (char c : text) {
        if (removes_backslash(kind, c)) out += '\\';
        out += c;
    }
    return out;
}

}  // namespace

std::string shell_quote(std::string_view value) {
    std::string out = "'";
    for (char c : value) {
        if (c == '\'')
            out += "'\\''";
        else
            out += c;
    }
    out += '\'';
    return out;
}

std::string quote_for(ShellContext context, std::string_view value) {
    switch (context) {
    case ShellContext::bare: return shell_quote(value);
    // Close the user's quote, add ours, reopen theirs.
    case ShellContext::single_quoted: return "'" + shell_quote(value) + "'";
    case ShellContext::double_quoted: {
        std::string out;
        for (char c : value) {
            if (c == '$' || c == '`' || c == '"' || c == '\\') out += '\\';
            out += c;
        }
        return out;
    }
    }
    return shell_quote(value);
}

std::string quote_for(const ShellPlace& place, std::string_view value) {
    std::string out = quote_for(place.context, value);
    // The outermost level's backslash removal happens first, so its escaping is added last.
    for (auto level = place.backquotes.rbegin(); level != place.backquotes.rend(); ++level)
        out = escape_backquoted(*level, out);
    return out;
}

ShellPlace QuoteTracker::place() const {
    ShellPlace place;
    for (std::size_t level = 1; level < m_levels.size(); ++level) place.backquotes.push_back(m_levels[level].backquote);
    switch (m_levels.back().frames.back()) {
    case Frame::single: place.context = ShellContext::single_quoted; break;
    case Frame::dquote: place.context = ShellContext::double_quoted; break;
    default: place.context = ShellContext::bare; break;
    }
    return place;
}

bool QuoteTracker::escaped() const {
    for (const auto& script : m_levels)
        if (script.backslash) return true;
    return false;
}

void QuoteTracker::feed(std::size_t level, char c) {
    if (level + 1 < m_levels.size()) return scan_backquoted(level, c);
    if (!parse(m_levels[level], c)) return;
    bool in_dquotes = m_levels[level].frames.back() == Frame::dquote;
    m_levels.push_back(Script{in_dquotes ? Backquote::in_double_quotes : Backquote::plain});
}

// sh reads a `...` to the first unescaped backquote, ignoring any quotes in
// it, and removes one level of backslashes; what remains is the inner script.
void QuoteTracker::scan_backquoted(std::size_t level, char c) {
    if (std::exchange(m_levels[level].backslash, false)) {
        if (c == '\n') return;  // a line continuation: both go
        if (!removes_backslash(m_levels[level + 1].backquote, c)) feed(level + 1, '\\');
        feed(level + 1, c);
    } else if (c == '\\') {
        m_levels[level].backslash = true;
    } else if (c == '`') {
        m_levels.resize(level + 1);
    } else {
        feed(level + 1, c);
    }
}

/// Follows `c` within one script; true when it opens a `...`.
bool QuoteTracker::parse(Script& script, char c) {
    Frame top = script.frames.back();
    bool after_dollar = std::exchange(script.dollar, false);
    if (top == Frame::single) {
        if (c == '\'') script.frames.pop_back();
        return false;
    }
    if (std::exchange(script.backslash, false)) return false;
    switch (c) {
    case '\\': script.backslash = true; return false;
    case '$': script.dollar = true; return false;
    case '`': return true;
    case '(':
        if (after_dollar) script.frames.push_back(Frame::subst);
        return false;
    case '"':
        if (top == Frame::dquote) script.frames.pop_back();
        else script.frames.push_back(Frame::dquote);
        return false;
    }
    // Inside "..." only \ $ ` and " are special.
    if (top == Frame::dquote) return false;
    if (c == ')' && top == Frame::subst) script.frames.pop_back();
    else if (c == '\'') script.frames.push_back(Frame::single);
    return false;
}

}  // namespace ppool::worker
