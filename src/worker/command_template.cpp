#include "worker/command_template.hpp"

#include <array>
#include <stdexcept>
#include <utility>

namespace ppool::worker {

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

std::string expand_template(std::string_view text, const TaskContext& context) {
    std::string out;
    while (!text.empty()) {
        if (auto [length, token] = match_token(text); length > 0) {
            out += token_value(token, context);
            text.remove_prefix(length);
            continue;
        }
        out += text.front();
        text.remove_prefix(1);
    }
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
    for (const auto& text : words) m_words.push_back(parse_word(text));
}

CommandTemplate::Word CommandTemplate::parse_word(std::string_view rest) {
    Word word;
    std::string literal;
    QuoteTracker quotes;
    while (!rest.empty()) {
        // After an escaping backslash a brace is literal: \{} is not a replacement string.
        auto [length, token] = quotes.escaped() ? std::pair{std::size_t{0}, Token::item} : match_token(rest);
        if (length == 0) {
            quotes.feed(rest.front());
            literal += rest.front();
            rest.remove_prefix(1);
            continue;
        }
        if (!literal.empty()) word.push_back(Part{false, Token::item, {}, std::move(literal)});
        literal.clear();
        word.push_back(Part{true, token, quotes.place(), {}});
        m_has_token = true;
        m_uses_item = m_uses_item || (token != Token::seq && token != Token::slot);
        rest.remove_prefix(length);
    }
    if (!literal.empty() || word.empty()) word.push_back(Part{false, Token::item, {}, std::move(literal)});
    m_end = quotes.place();
    return word;
}

std::string CommandTemplate::fill(const Word& word, const TaskContext& context, bool quote) const {
    std::string out;
    for (const auto& part : word) {
        if (!part.is_token)
            out += part.text;
        else if (quote)
            out += quote_for(part.place, token_value(part.token, context));
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
            script += quote_for(m_end, context.item);
        }
        return {"/bin/sh", "-c", std::move(script)};
    }
    std::vector<std::string> argv;
    argv.reserve(m_words.size() + 1);
    for (const auto& word : m_words) argv.push_back(fill(word, context, false));
    if (append) argv.emplace_back(context.item);
    return argv;
}

}  // namespace ppool::worker
