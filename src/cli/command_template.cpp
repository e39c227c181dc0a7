#include "cli/command_template.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <utility>

namespace ppool::cli {

namespace {

constexpr std::array<std::pair<std::string_view, Token>, 7> k_tokens{{
    {"{//}", Token::dirname},
    {"{/.}", Token::basename_no_ext},
    {"{}", Token::item},
    {"{.}", Token::no_ext},
    {"{/}", Token::basename},
    {"{#}", Token::seq},
    {"{%}", Token::slot},
}};

/// The token starting at `text`, with its length, if any.
std::pair<std::size_t, Token> match_token(std::string_view text) {
    for (const auto& [name, token] : k_tokens)
        if (text.substr(0, name.size()) == name) return {name.size(), token};
    return {0, Token::item};
}

std::string_view basename_of(std::string_view path) {
    auto slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string dirname_of(std::string_view path) {
    auto slash = path.rfind('/');
    if (slash == std::string_view::npos) return ".";
    if (slash == 0) return "/";
    return std::string(path.substr(0, slash));
}

/// Removes the extension of the last path component; a leading dot is not one.
std::string_view without_extension(std::string_view path) {
    auto base = basename_of(path);
    auto dot = base.rfind('.');
    if (dot == std::string_view::npos || dot == 0) return path;
    return path.substr(0, path.size() - (base.size() - dot));
}

}  // namespace

std::string token_value(Token token, const TaskContext& c) {
    switch (token) {
    case Token::item: return std::string(c.item);
    case Token::no_ext: return std::string(without_extension(c.item));
    case Token::basename: return std::string(basename_of(c.item));
    case Token::dirname: return dirname_of(c.item);
    case Token::basename_no_ext: return std::string(without_extension(basename_of(c.item)));
    case Token::seq: return std::to_string(c.seq);
    case Token::slot: return std::to_string(c.worker + 1);
    }
    return {};
}

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

std::string display_command(const std::vector<std::string>& argv) {
    constexpr std::string_view k_plain = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-";
    std::string line;
    for (const auto& word : argv) {
        if (!line.empty()) line += ' ';
        bool plain = !word.empty() && word.find_first_not_of(k_plain) == std::string::npos;
        line += plain ? word : shell_quote(word);
    }
    return line;
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

namespace {

/// Follows the quoting of a shell script character by character: enough of
/// sh's grammar to know whether a position is bare, in '...' or in "...",
/// including $(...) and `...` nested in double quotes.
class QuoteTracker {
public:
    ShellContext context() const {
        switch (m_stack.back()) {
        case Frame::single: return ShellContext::single_quoted;
        case Frame::dquote: return ShellContext::double_quoted;
        default: return ShellContext::bare;
        }
    }
    /// Consumes the character at the front of `text` (two for an escape or "$(").
    std::size_t step(std::string_view text) {
        char c = text[0];
        Frame top = m_stack.back();
        if (top == Frame::single) {
            if (c == '\'') m_stack.pop_back();
            return 1;
        }
        if (c == '\\') return std::min<std::size_t>(2, text.size());
        if (c == '$' && text.size() > 1 && text[1] == '(') {
            m_stack.push_back(Frame::subst);
            return 2;
        }
        if (c == '`') {
            if (top == Frame::backtick) m_stack.pop_back();
            else m_stack.push_back(Frame::backtick);
            return 1;
        }
        if (top == Frame::dquote) {
            if (c == '"') m_stack.pop_back();
            return 1;
        }
        if (c == ')' && top == Frame::subst) m_stack.pop_back();
        else if (c == '\'') m_stack.push_back(Frame::single);
        else if (c == '"') m_stack.push_back(Frame::dquote);
        return 1;
    }

private:
    enum class Frame { bare, single, dquote, subst, backtick };
    std::vector<Frame> m_stack{Frame::bare};
};

}  // namespace

bool needs_shell(std::string_view word) {
    constexpr std::string_view k_special = " \t\n|&;<>()$`\\\"'*?[]#~!{}";
    while (!word.empty()) {
        if (auto [length, token] = match_token(word); length > 0) {
            word.remove_prefix(length);
            continue;
        }
        if (k_special.find(word.front()) != std::string_view::npos) return true;
        word.remove_prefix(1);
    }
    return false;
}

CommandTemplate::CommandTemplate(std::vector<std::string> words, bool append_item) : m_append_item(append_item) {
    m_shell = words.size() == 1 && needs_shell(words[0]);
    for (const auto& text : words) {
        Word word;
        std::string_view rest = text;
        std::string literal;
        QuoteTracker quotes;
        while (!rest.empty()) {
            auto [length, token] = match_token(rest);
            if (length == 0) {
                std::size_t n = quotes.step(rest);
                literal.append(rest.substr(0, n));
                rest.remove_prefix(n);
                continue;
            }
            if (!literal.empty()) word.push_back(Part{false, Token::item, ShellContext::bare, std::move(literal)});
            literal.clear();
            word.push_back(Part{true, token, quotes.context(), {}});
            m_has_token = true;
            m_uses_item = m_uses_item || (token != Token::seq && token != Token::slot);
            rest.remove_prefix(length);
        }
        if (!literal.empty() || word.empty())
            word.push_back(Part{false, Token::item, ShellContext::bare, std::move(literal)});
        m_words.push_back(std::move(word));
    }
}

std::string CommandTemplate::fill(const Word& word, const TaskContext& context, bool quote) const {
    std::string out;
    for (const auto& part : word) {
        if (!part.is_token)
            out += part.text;
        else if (quote)
            out += quote_for(part.context, token_value(part.token, context));
        else
            out += token_value(part.token, context);
    }
    return out;
}

std::vector<std::string> CommandTemplate::build(const TaskContext& context) const {
    bool append = m_append_item && !m_has_token;
    // A NUL byte would silently cut an argument short.
    if ((append || m_uses_item) && context.item.find('\0') != std::string_view::npos)
        throw std::invalid_argument("the item holds a NUL byte, which no command argument can (split items with -0)");
    if (m_shell) {
        std::string script = fill(m_words[0], context, true);
        if (append) {
            script += ' ';
            script += shell_quote(context.item);
        }
        return {"/bin/sh", "-c", std::move(script)};
    }
    std::vector<std::string> argv;
    argv.reserve(m_words.size() + 1);
    for (const auto& word : m_words) argv.push_back(fill(word, context, false));
    if (append) argv.emplace_back(context.item);
    return argv;
}

}  // namespace ppool::cli
