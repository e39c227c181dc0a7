#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "worker/shell_quote.hpp"
#include "ppool/task.hpp"

namespace ppool::worker {

/// The replacement strings: {} {.} {/} {//} {/.} {#} {%}, and {N} {N.} {N/} {N//} {N/.} for the Nth argument.
enum class Token { item, no_ext, basename, dirname, basename_no_ext, seq, slot };

/// A command line with replacement strings, parsed once and filled per item.
/// Several words run directly (execvp) with values inserted as plain text;
/// a single word with shell syntax runs under /bin/sh -c (or the line's
/// shell) with every value shell-quoted but `{:raw}`'s, as do several words
/// given `in_shell` or holding `{:raw}`. Without any replacement string the
/// item is appended.
class CommandTemplate {
public:
    /// `append_item`: add the item when no replacement string is present.
    explicit CommandTemplate(std::vector<std::string> words, bool append_item = true);
    /// The command of `line`, with its way of taking the item (a list of
    /// arguments, -X's context, -I's replacement string).
    explicit CommandTemplate(const CommandLine& line);

    bool uses_shell() const { return m_shell; }
    /// Whether a replacement string stands for the item ({}, {.}, {/}, {//}, {/.}).
    bool uses_item() const { return m_uses_item; }
    /// Whether any replacement string is present.
    bool has_token() const { return m_has_token; }
    /// The argv for one item.
    std::vector<std::string> build(const TaskContext& context) const;
    /// The words filled for one item as plain text, joined by spaces, with
    /// nothing quoted and nothing appended (--tagstring, --results names).
    std::string expand(const TaskContext& context) const;

private:
    struct Part {
        bool is_token = false;
        Token token{};
        std::size_t arg = 0;  ///< `{N}`: the Nth argument (1-based); 0: the item, or every argument
        ShellPlace place;
        std::string text;
        bool raw = false;  ///< `{:raw}`: inserted into the script unquoted
    };
    using Word = std::vector<Part>;
    /// Splits a word into literal text and replacement strings, each with its place in a shell script.
    Word parse_word(std::string_view text);
    std::string fill(const Word& word, const TaskContext& context, bool quote) const;
    std::vector<std::string> build_args(const TaskContext& context) const;
    /// Appends the words `word` makes from a list of arguments.
    void fill_args(const Word& word, const std::vector<std::string_view>& args, const TaskContext& context,
                   std::vector<std::string>& out) const;
    std::string fill_script(const TaskContext& context, const std::vector<std::string_view>& args) const;
    /// The value of a token for one text (the item or one argument).
    std::string value(const Part& part, std::string_view text, const TaskContext& context) const;

    std::vector<Word> m_words;
    ShellPlace m_end;  ///< where the appended item stands in a shell script
    bool m_shell = false;
    bool m_has_token = false;
    bool m_uses_item = false;
    bool m_append_item = true;
    bool m_args = false;     ///< the item is a list of arguments
    bool m_context = false;  ///< -X
    std::string m_replace;   ///< -I STR
    std::string m_shell_program;
};

/// A list of arguments as one item (several input sources, columns, -N):
/// each argument as its decimal length, ':', its bytes.
void append_arg(std::string& item, std::string_view arg);
/// The arguments of an item made by append_arg; throws std::invalid_argument if malformed.
std::vector<std::string_view> split_args(std::string_view item);
/// --pipepart: the bytes of `path` that `item` ("OFFSET LENGTH") names;
/// throws std::runtime_error if they cannot be read.
std::string read_file_part(const std::string& path, std::string_view item);
/// The arguments of an item made by append_arg joined by `separator`, for display.
std::string join_args(std::string_view item, std::string_view separator = " ");

/// An argv as one line a user could paste into a shell: words quoted only where needed.
std::string display_command(const std::vector<std::string>& argv);

/// Whether `text` holds `{:raw}` or `{N:raw}`: a command holding it runs in a shell.
bool has_raw(std::string_view text);
/// Whether `word`, one word of a command given as several, is a shell
/// operator (`|`, `&&`, `;`, `>`, `2>&1` ...) or a redirection joined to its
/// file (`>out.txt`).
bool is_shell_operator(std::string_view word);
/// Whether a word after the first of `words` is a shell operator; a `;`
/// ending find's -exec, -execdir, -ok or -okdir is find's own.
bool has_shell_operator(const std::vector<std::string>& words);
/// `words` as one shell script, joined by spaces: shell operators (as
/// has_shell_operator finds them) and words
/// holding `{:raw}` as they are, every other word quoted so that it stays
/// that one word, replacement strings (`replace` for -I) left to be filled.
std::string script_of(const std::vector<std::string>& words, std::string_view replace = {});

/// Whether a single command word needs a shell: whitespace or shell syntax
/// outside the replacement strings.
bool needs_shell(std::string_view word, std::string_view replace = {});
/// `text` with its replacement strings filled in for an item, unquoted: a
/// file name of --return.
std::string expand_template(std::string_view text, const TaskContext& context);
/// The value of a replacement string for an item.
std::string token_value(Token token, const TaskContext& context);

}  // namespace ppool::worker
