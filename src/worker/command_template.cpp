#include "worker/command_template.hpp"

#include "os/fd.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>
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

struct Match {
    std::size_t length = 0;  ///< 0: no token here
    Token token = Token::item;
    std::size_t arg = 0;  ///< `{N}`: N; else 0
    bool raw = false;     ///< `{:raw}`, `{N:raw}`: the text goes into a script unquoted
};

constexpr std::string_view k_raw = "{:raw}";

/// `{N}` `{N.}` `{N/}` `{N//}` `{N/.}` at the start of `text`, if any.
Match match_positional(std::string_view text) {
    if (text.size() < 3 || text[0] != '{' || text[1] < '1' || text[1] > '9') return {};
    std::size_t i = 1;
    std::size_t arg = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
        if (arg > 100000000) return {};
        arg = arg * 10 + static_cast<std::size_t>(text[i] - '0');
    }
    std::string_view rest = text.substr(i);
    if (rest.substr(0, 5) == ":raw}") return {i + 5, Token::item, arg, true};
    constexpr std::array<std::pair<std::string_view, Token>, 5> k_suffixes{{
        {"}", Token::item},
        {".}", Token::no_ext},
        {"//}", Token::dirname},
        {"/.}", Token::basename_no_ext},
        {"/}", Token::basename},
    }};
    for (const auto& [suffix, token] : k_suffixes)
        if (rest.substr(0, suffix.size()) == suffix) return {i + suffix.size(), token, arg};
    return {};
}

/// The token starting at `text`, if any; `replace` (-I) stands for the item instead of `{}`.
Match match_token(std::string_view text, std::string_view replace = {}) {
    if (!replace.empty() && text.substr(0, replace.size()) == replace) return {replace.size(), Token::item, 0};
    if (text.substr(0, k_raw.size()) == k_raw) return {k_raw.size(), Token::item, 0, true};
    for (const auto& [name, token] : k_tokens) {
        if (token == Token::item && !replace.empty()) continue;
        if (text.substr(0, name.size()) == name) return {name.size(), token, 0};
    }
    return match_positional(text);
}

/// Whether sh reads `word` as itself, unquoted: not empty, no shell syntax.
bool plain_word(std::string_view word) {
    constexpr std::string_view k_plain = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-";
    return !word.empty() && word.find_first_not_of(k_plain) == std::string_view::npos;
}

/// A word of a command given as several words, as text of a shell script:
/// literal text quoted where the shell would change it, replacement strings
/// left as they are, to be quoted (or not, `{:raw}`) as they are filled.
std::string as_script_word(std::string_view word, std::string_view replace) {
    std::string out;
    std::string literal;
    auto flush = [&] {
        out += plain_word(literal) ? literal : shell_quote(literal);
        literal.clear();
    };
    while (!word.empty()) {
        if (auto match = match_token(word, replace); match.length > 0) {
            if (!literal.empty()) flush();
            out += word.substr(0, match.length);
            word.remove_prefix(match.length);
            continue;
        }
        literal += word.front();
        word.remove_prefix(1);
    }
    // An empty word is '': in a script, nothing would be no word at all.
    if (!literal.empty() || out.empty()) flush();
    return out;
}

/// find's actions that take a command ended by a `;` word of their own.
bool starts_find_command(std::string_view word) {
    return word == "-exec" || word == "-execdir" || word == "-ok" || word == "-okdir";
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
        if (auto [length, token, arg, raw] = match_token(text); length > 0) {
            // A single item is `{1}`; there is no second.
            if (arg <= 1) out += token_value(token, context);
            text.remove_prefix(length);
            continue;
        }
        out += text.front();
        text.remove_prefix(1);
    }
    return out;
}

std::string display_command(const std::vector<std::string>& argv) {
    std::string line;
    for (const auto& word : argv) {
        if (!line.empty()) line += ' ';
        line += plain_word(word) ? word : shell_quote(word);
    }
    return line;
}

bool has_raw(std::string_view text) {
    for (; !text.empty(); text.remove_prefix(1))
        if (match_token(text).raw) return true;
    return false;
}

bool is_shell_operator(std::string_view word) {
    constexpr std::array<std::string_view, 17> k_operators{
        "|", "||", "|&", "&", "&&", ";", "<", ">", ">>", ">|", "&>", "&>>", "2>", "2>>", "2>&1", "1>&2", ">&2"};
    if (std::find(k_operators.begin(), k_operators.end(), word) != k_operators.end()) return true;
    // A redirection joined to its file: >out.txt, 2>>err_{}.log.
    for (std::string_view start : {">>", ">", "2>>", "2>", "&>"})
        if (word.size() > start.size() && word.substr(0, start.size()) == start && word[start.size()] != '&' &&
            word[start.size()] != '>')
            return true;
    return false;
}

namespace {

/// Which of `words` act as shell operators: none of the first (the
/// program), nor the `;` that ends find's -exec (`find {} -exec rm {} ;`).
std::vector<bool> operator_words(const std::vector<std::string>& words) {
    std::vector<bool> operators(words.size(), false);
    bool in_find_command = false;
    for (std::size_t i = 1; i < words.size(); ++i) {
        if (starts_find_command(words[i])) in_find_command = true;
        if (in_find_command && words[i] == ";")
            in_find_command = false;
        else
            operators[i] = is_shell_operator(words[i]);
    }
    return operators;
}

}  // namespace

bool has_shell_operator(const std::vector<std::string>& words) {
    auto operators = operator_words(words);
    return std::find(operators.begin(), operators.end(), true) != operators.end();
}

std::string script_of(const std::vector<std::string>& words, std::string_view replace) {
    auto operators = operator_words(words);
    std::string script;
    for (std::size_t i = 0; i < words.size(); ++i) {
        if (i > 0) script += ' ';
        // A word holding {:raw} is shell code as typed.
        script += operators[i] || has_raw(words[i]) ? words[i] : as_script_word(words[i], replace);
    }
    return script;
}

bool needs_shell(std::string_view word, std::string_view replace) {
    constexpr std::string_view k_special = " \t\n|&;<>()$`\\\"'*?[]#~!{}";
    while (!word.empty()) {
        if (auto match = match_token(word, replace); match.length > 0) {
            word.remove_prefix(match.length);
            continue;
        }
        if (k_special.find(word.front()) != std::string_view::npos) return true;
        word.remove_prefix(1);
    }
    return false;
}

CommandTemplate::CommandTemplate(std::vector<std::string> words, bool append_item)
    : CommandTemplate(CommandLine{std::move(words), append_item}) {}

CommandTemplate::CommandTemplate(const CommandLine& line)
    : m_append_item(line.append_item), m_args(line.item_is_args), m_context(line.context_replace),
      m_replace(line.replace), m_shell_program(line.shell.empty() ? "/bin/sh" : line.shell) {
    bool raw = std::any_of(line.words.begin(), line.words.end(), [](const std::string& w) { return has_raw(w); });
    if ((line.in_shell || raw) && line.words.size() > 1) {
        m_words.push_back(parse_word(script_of(line.words, m_replace)));
        m_shell = true;
        return;
    }
    m_shell = line.words.size() == 1 && (line.in_shell || raw || needs_shell(line.words[0], m_replace));
    for (const auto& text : line.words) m_words.push_back(parse_word(text));
}

CommandTemplate::Word CommandTemplate::parse_word(std::string_view rest) {
    Word word;
    std::string literal;
    QuoteTracker quotes;
    while (!rest.empty()) {
        // After an escaping backslash a brace is literal: \{} is not a replacement string.
        auto [length, token, arg, raw] = quotes.escaped() ? Match{} : match_token(rest, m_replace);
        if (length == 0) {
            quotes.feed(rest.front());
            literal += rest.front();
            rest.remove_prefix(1);
            continue;
        }
        if (!literal.empty()) word.push_back(Part{false, Token::item, 0, {}, std::move(literal)});
        literal.clear();
        word.push_back(Part{true, token, arg, quotes.place(), {}, raw});
        m_has_token = true;
        m_uses_item = m_uses_item || (token != Token::seq && token != Token::slot);
        rest.remove_prefix(length);
    }
    if (!literal.empty() || word.empty()) word.push_back(Part{false, Token::item, 0, {}, std::move(literal)});
    m_end = quotes.place();
    return word;
}

std::string CommandTemplate::value(const Part& part, std::string_view text, const TaskContext& context) const {
    if (part.token == Token::seq || part.token == Token::slot) return token_value(part.token, context);
    return token_value(part.token, TaskContext{text, context.seq, context.worker});
}

std::string CommandTemplate::fill(const Word& word, const TaskContext& context, bool quote) const {
    std::string out;
    for (const auto& part : word) {
        // A single item is `{1}`; there is no second.
        std::string_view text = part.arg <= 1 ? context.item : std::string_view();
        if (!part.is_token)
            out += part.text;
        else if (quote && !part.raw)
            out += quote_for(part.place, value(part, text, context));
        else
            out += value(part, text, context);
    }
    return out;
}

void CommandTemplate::fill_args(const Word& word, const std::vector<std::string_view>& args,
                                const TaskContext& context, std::vector<std::string>& out) const {
    auto every = [](const Part& p) {
        return p.is_token && p.arg == 0 && p.token != Token::seq && p.token != Token::slot;
    };
    bool has_every = std::any_of(word.begin(), word.end(), every);
    if (m_context && has_every) {
        // -X: the whole word once for every argument.
        for (auto arg : args) {
            std::string one;
            for (const auto& part : word)
                one += !part.is_token ? part.text
                       : every(part)  ? value(part, arg, context)
                                      : value(part, part.arg <= args.size() ? args[part.arg - 1] : "", context);
            out.push_back(std::move(one));
        }
        return;
    }
    // `{}` is every argument as a word of its own, the text around it joined to the first and the last.
    out.emplace_back();
    for (const auto& part : word) {
        if (!part.is_token) {
            out.back() += part.text;
        } else if (every(part)) {
            for (std::size_t i = 0; i < args.size(); ++i) {
                if (i > 0) out.emplace_back();
                out.back() += value(part, args[i], context);
            }
        } else {
            std::string_view arg = part.arg == 0 || part.arg > args.size() ? "" : args[part.arg - 1];
            out.back() += value(part, arg, context);
        }
    }
}

std::string CommandTemplate::fill_script(const TaskContext& context, const std::vector<std::string_view>& args) const {
    std::string script;
    for (const auto& part : m_words[0]) {
        if (!part.is_token) {
            script += part.text;
        } else if (part.token == Token::seq || part.token == Token::slot) {
            script += token_value(part.token, context);
        } else if (part.arg == 0) {
            for (std::size_t i = 0; i < args.size(); ++i) {
                if (i > 0) script += ' ';
                auto text = value(part, args[i], context);
                script += part.raw ? text : quote_for(part.place, text);
            }
        } else {
            std::string_view arg = part.arg > args.size() ? "" : args[part.arg - 1];
            script += part.raw ? value(part, arg, context) : quote_for(part.place, value(part, arg, context));
        }
    }
    return script;
}

std::vector<std::string> CommandTemplate::build_args(const TaskContext& context) const {
    auto args = split_args(context.item);
    for (auto arg : args)
        if (arg.find('\0') != std::string_view::npos)
            throw std::invalid_argument(
                "an argument holds a NUL byte, which no command argument can (split items with -0)");
    bool append = m_append_item && !m_has_token;
    if (m_shell) {
        std::string script = fill_script(context, args);
        if (append)
            for (auto arg : args) {
                script += ' ';
                script += quote_for(m_end, arg);
            }
        return {m_shell_program, "-c", std::move(script)};
    }
    std::vector<std::string> argv;
    argv.reserve(m_words.size() + args.size());
    for (const auto& word : m_words) fill_args(word, args, context, argv);
    if (append)
        for (auto arg : args) argv.emplace_back(arg);
    return argv;
}

std::vector<std::string> CommandTemplate::build(const TaskContext& context) const {
    if (m_args) return build_args(context);
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
        return {m_shell_program, "-c", std::move(script)};
    }
    std::vector<std::string> argv;
    argv.reserve(m_words.size() + 1);
    for (const auto& word : m_words) argv.push_back(fill(word, context, false));
    if (append) argv.emplace_back(context.item);
    return argv;
}

std::string CommandTemplate::expand(const TaskContext& context) const {
    std::vector<std::string> words;
    if (m_args) {
        auto args = split_args(context.item);
        for (const auto& word : m_words) fill_args(word, args, context, words);
    } else {
        for (const auto& word : m_words) words.push_back(fill(word, context, false));
    }
    std::string out;
    for (std::size_t i = 0; i < words.size(); ++i) {
        if (i > 0) out += ' ';
        out += words[i];
    }
    return out;
}

std::string read_file_part(const std::string& path, std::string_view item) {
    unsigned long long offset = 0;
    unsigned long long length = 0;
    int used = 0;
    std::string text(item);
    if (std::sscanf(text.c_str(), "%llu %llu%n", &offset, &length, &used) != 2 ||
        static_cast<std::size_t>(used) != text.size())
        throw std::runtime_error("malformed --pipepart part '" + text + "'");
    os::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw std::runtime_error("cannot read '" + path + "': " + std::strerror(errno));
    std::string part(static_cast<std::size_t>(length), '\0');
    std::size_t done = 0;
    while (done < part.size()) {
        ssize_t n = ::pread(fd.get(), part.data() + done, part.size() - done, static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw std::runtime_error("cannot read '" + path + "': " + std::strerror(errno));
        if (n == 0) throw std::runtime_error("cannot read '" + path + "': the file is shorter than it was");
        done += static_cast<std::size_t>(n);
    }
    return part;
}

void append_arg(std::string& item, std::string_view arg) {
    item += std::to_string(arg.size());
    item += ':';
    item += arg;
}

std::vector<std::string_view> split_args(std::string_view item) {
    std::vector<std::string_view> args;
    while (!item.empty()) {
        auto colon = item.find(':');
        if (colon == std::string_view::npos || colon == 0 || colon > 19)
            throw std::invalid_argument("malformed list of arguments");
        std::size_t length = 0;
        for (char c : item.substr(0, colon)) {
            if (c < '0' || c > '9') throw std::invalid_argument("malformed list of arguments");
            length = length * 10 + static_cast<std::size_t>(c - '0');
        }
        item.remove_prefix(colon + 1);
        if (length > item.size()) throw std::invalid_argument("malformed list of arguments");
        args.push_back(item.substr(0, length));
        item.remove_prefix(length);
    }
    return args;
}

std::string join_args(std::string_view item, std::string_view separator) {
    std::string out;
    try {
        bool first = true;
        for (auto arg : split_args(item)) {
            if (!first) out.append(separator);
            first = false;
            out.append(arg);
        }
    } catch (const std::invalid_argument&) {
        return std::string(item);
    }
    return out;
}

}  // namespace ppool::worker
