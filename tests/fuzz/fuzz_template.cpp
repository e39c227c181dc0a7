// Fuzzes the command template and shell quoting. The input is NUL-separated:
// every part but the last is a command word, the last is the item.
// Properties: build never throws; in exec form values go in verbatim; in shell
// form (one word with shell syntax, or any holding {:raw}) the script is the
// word with quoted values; a plain word in a script of several words reads
// back as itself; shell_quote always gives one
// single-quoted word that sh reads back as the value; quote_for gives text that
// sh reads back as the value in every context, also inside nested `...`.

#include "worker/command_template.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using namespace ppool::worker;

namespace {

/// Aborts with `what` unless `ok`, so libFuzzer records the input.
void require(bool ok, const char* what) {
    if (ok) return;
    std::fprintf(stderr, "property violated: %s\n", what);
    std::abort();
}

/// Reads back what shell_quote promises to write: '...' runs joined by \'
/// (the '\'' sequence), which is how sh reads it. Nothing else is accepted.
std::optional<std::string> sh_unquote(std::string_view quoted) {
    if (quoted.size() < 2 || quoted.front() != '\'') return std::nullopt;
    std::string out;
    std::size_t at = 1;
    for (;;) {
        auto close = quoted.find('\'', at);
        if (close == std::string_view::npos) return std::nullopt;
        out.append(quoted.substr(at, close - at));
        if (close + 1 == quoted.size()) return out;
        if (quoted.substr(close, 4) != "'\\''") return std::nullopt;
        out += '\'';
        at = close + 4;
    }
}

void check_shell_quote(std::string_view value) {
    auto quoted = shell_quote(value);
    require(quoted.size() >= 2 && quoted.front() == '\'' && quoted.back() == '\'', "shell_quote is single-quoted");
    auto back = sh_unquote(quoted);
    require(back.has_value(), "shell_quote has no quote outside the '\\'' sequence");
    require(*back == value, "shell_quote unquotes to the value");
}

/// Reads a word as sh reads it outside quotes: '...' runs, backslash escapes
/// and plain characters; nullopt at anything that would end the word or expand.
std::optional<std::string> sh_read_word(std::string_view text) {
    constexpr std::string_view k_special = " \t\n|&;<>()$`\"'*?[]#~";
    std::string out;
    for (std::size_t at = 0; at < text.size(); ++at) {
        char c = text[at];
        if (c == '\'') {
            auto close = text.find('\'', at + 1);
            if (close == std::string_view::npos) return std::nullopt;
            out.append(text.substr(at + 1, close - at - 1));
            at = close;
        } else if (c == '\\') {
            if (++at == text.size() || text[at] == '\n') return std::nullopt;
            out += text[at];
        } else if (k_special.find(c) != std::string_view::npos) {
            return std::nullopt;
        } else {
            out += c;
        }
    }
    return out;
}

/// Reads the inside of "..." as sh does; nullopt at anything that would end
/// the string or expand, or at a backslash that would escape what follows.
std::optional<std::string> sh_read_double_quoted(std::string_view text) {
    std::string out;
    for (std::size_t at = 0; at < text.size(); ++at) {
        char c = text[at];
        if (c == '"' || c == '`' || c == '$') return std::nullopt;
        if (c != '\\') {
            out += c;
            continue;
        }
        if (++at == text.size() || text[at] == '\n') return std::nullopt;
        if (std::string_view("$`\"\\").find(text[at]) == std::string_view::npos) out += '\\';
        out += text[at];
    }
    return out;
}

/// Reads the text of a `...` as sh does before parsing it: nullopt at a
/// backquote that would end it or a backslash that would escape what follows;
/// otherwise the text with the backslash removed before \ ` $ (and " in "...").
std::optional<std::string> sh_read_backquoted(Backquote kind, std::string_view text) {
    std::string out;
    for (std::size_t at = 0; at < text.size(); ++at) {
        char c = text[at];
        if (c == '`') return std::nullopt;
        if (c != '\\') {
            out += c;
            continue;
        }
        if (++at == text.size() || text[at] == '\n') return std::nullopt;
        char next = text[at];
        bool removed = next == '\\' || next == '`' || next == '$' || (next == '"' && kind == Backquote::in_double_quotes);
        if (!removed) out += '\\';
        out += next;
    }
    return out;
}

/// quote_for gives text that, in its place, sh reads back as the value: each
/// `...` level peeled outermost first, then the innermost context.
void check_quote_for(const ShellPlace& place, std::string_view value) {
    std::optional<std::string> text = quote_for(place, value);
    for (auto kind : place.backquotes) {
        text = sh_read_backquoted(kind, *text);
        require(text.has_value(), "a quoted value neither ends its `...` nor escapes what follows");
    }
    switch (place.context) {
    case ShellContext::bare: text = sh_read_word(*text); break;
    // The user's quotes stand around the value.
    case ShellContext::single_quoted: text = sh_read_word("'" + *text + "'"); break;
    case ShellContext::double_quoted: text = sh_read_double_quoted(*text); break;
    }
    require(text.has_value(), "a quoted value is one literal piece of text in its context");
    require(*text == value, "a quoted value reads back as the value");
}

/// Every context under no, one and two levels of `...`, plain or in "...".
void check_quote_for_everywhere(std::string_view value) {
    constexpr auto plain = Backquote::plain;
    constexpr auto in_dq = Backquote::in_double_quotes;
    const std::vector<std::vector<Backquote>> nestings{{}, {plain}, {in_dq}, {plain, in_dq}, {in_dq, plain}, {in_dq, in_dq}};
    for (const auto& backquotes : nestings)
        for (auto context : {ShellContext::bare, ShellContext::single_quoted, ShellContext::double_quoted})
            check_quote_for(ShellPlace{backquotes, context}, value);
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

/// Each replacement string derives from the item as its name says.
void check_tokens(const ppool::TaskContext& context) {
    std::string_view item = context.item;
    require(token_value(Token::item, context) == item, "{} is the item");
    auto no_ext = token_value(Token::no_ext, context);
    require(starts_with(item, no_ext), "{.} is a prefix of the item");
    auto base = token_value(Token::basename, context);
    require(ends_with(item, base) && base.find('/') == std::string::npos, "{/} is the last path component");
    auto dir = token_value(Token::dirname, context);
    if (auto slash = item.rfind('/'); slash != std::string_view::npos && slash > 0)
        require(dir + "/" + base == item, "{//} and {/} rebuild the item");
    require(starts_with(base, token_value(Token::basename_no_ext, context)), "{/.} is a prefix of {/}");
    require(token_value(Token::seq, context) == std::to_string(context.seq), "{#} is the sequence number");
    require(token_value(Token::slot, context) == std::to_string(context.worker + 1), "{%} is the 1-based slot");
}

/// Words without '{' hold no replacement string and pass through unchanged.
bool plain(std::string_view word) { return word.find('{') == std::string_view::npos; }

void check_exec_form(const std::vector<std::string>& words, const std::vector<std::string>& argv,
                     std::string_view item, bool append_item) {
    bool all_plain = true;
    bool has_item_word = false;
    for (std::size_t i = 0; i < words.size(); ++i) {
        if (plain(words[i])) require(argv.at(i) == words[i], "a plain word is passed verbatim");
        else all_plain = false;
        if (words[i] == "{}") {
            has_item_word = true;
            require(argv.at(i) == item, "a {} word is the item verbatim");
        }
    }
    if (!append_item || has_item_word) require(argv.size() == words.size(), "one argument per word");
    if (append_item && all_plain) {
        require(argv.size() == words.size() + 1, "the item is appended");
        require(argv.back() == item, "the appended item is verbatim");
    }
}

/// Where an item appended to `script` stands.
ShellPlace place_at_end(std::string_view script) {
    QuoteTracker quotes;
    for (char c : script) quotes.feed(c);
    return quotes.place();
}

void check_shell_form(const std::vector<std::string>& words, const std::vector<std::string>& argv,
                      std::string_view item, bool append_item) {
    bool raw = std::any_of(words.begin(), words.end(), [](const std::string& w) { return has_raw(w); });
    require(raw || (words.size() == 1 && needs_shell(words[0])),
            "the shell only for one word with shell syntax, or {:raw}");
    require(argv.size() == 3 && argv[0] == "/bin/sh" && argv[1] == "-c", "shell form is /bin/sh -c script");
    if (words.size() == 1 && plain(words[0])) {
        auto expected = append_item ? words[0] + " " + quote_for(place_at_end(words[0]), item) : words[0];
        require(argv[2] == expected, "a script without replacement strings gets the item appended, quoted for its place");
    }
}

/// A word of several put into one script (shell operators among them) stays
/// the one word it was.
void check_script_word(const std::string& word) {
    if (!plain(word) || is_shell_operator(word)) return;
    auto back = sh_read_word(script_of({word}));
    require(back.has_value(), "a word of a script is one word");
    require(*back == word, "a word of a script reads back as itself");
}

void check_template(const std::vector<std::string>& words, const ppool::TaskContext& context, bool append_item) {
    CommandTemplate command(words, append_item);
    auto argv = command.build(context);
    if (command.uses_shell()) check_shell_form(words, argv, context.item, append_item);
    else check_exec_form(words, argv, context.item, append_item);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);

    // Every part but the last is a word; the last is the item.
    std::vector<std::string> words;
    for (auto nul = input.find('\0'); nul != std::string_view::npos; nul = input.find('\0')) {
        words.emplace_back(input.substr(0, nul));
        input.remove_prefix(nul + 1);
    }
    std::string item(input);
    ppool::TaskContext context{item, size, static_cast<int>(words.size() % 1024)};

    for (const auto& word : words) {
        needs_shell(word);
        check_shell_quote(word);
        check_script_word(word);
    }
    check_shell_quote(item);
    check_quote_for_everywhere(item);
    check_tokens(context);
    check_template(words, context, true);
    check_template(words, context, false);
    return 0;
}
