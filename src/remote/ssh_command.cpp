#include "remote/ssh_command.hpp"

#include "ppool/errors.hpp"
#include "worker/shell_quote.hpp"

#include <fmt/format.h>
#include <stdexcept>

namespace ppool::remote {

namespace {

constexpr std::string_view k_blanks = " \t\n";
constexpr std::string_view k_needs_shell = "$`|&;<>()*?[~{}";

/// Appends the text of "..." that starts at `i` (after the opening quote) to
/// `word`; returns the index of the closing quote.
std::size_t take_double_quoted(std::string_view line, std::size_t i, std::string& word, std::string_view what) {
    for (; i < line.size() && line[i] != '"'; ++i) {
        // Inside "...", a backslash quotes only these.
        constexpr std::string_view k_quotable = "$`\"\\";
        bool quotes_next = line[i] == '\\' && i + 1 < line.size() && k_quotable.find(line[i + 1]) != std::string_view::npos;
        if (quotes_next)
            ++i;
        else if (line[i] == '$' || line[i] == '`')
            throw UsageError(fmt::format("{} needs a shell to expand '{}': write the value out", what, line[i]));
        word += line[i];
    }
    if (i == line.size()) throw UsageError(fmt::format("{} has an unclosed \"", what));
    return i;
}

}  // namespace

std::vector<std::string> split_command_line(std::string_view line, std::string_view what) {
    std::vector<std::string> words;
    std::string word;
    bool in_word = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        char c = line[i];
        if (k_blanks.find(c) != std::string_view::npos) {
            if (in_word) words.push_back(std::move(word));
            word.clear();
            in_word = false;
            continue;
        }
        in_word = true;
        if (c == '\\') {
            if (++i == line.size()) throw UsageError(fmt::format("{} ends with a backslash", what));
            word += line[i];
        } else if (c == '\'') {
            auto close = line.find('\'', i + 1);
            if (close == std::string_view::npos) throw UsageError(fmt::format("{} has an unclosed '", what));
            word.append(line.substr(i + 1, close - i - 1));
            i = close;
        } else if (c == '"') {
            i = take_double_quoted(line, i + 1, word, what);
        } else if (k_needs_shell.find(c) != std::string_view::npos) {
            throw UsageError(
                fmt::format("{} needs a shell for '{}': quote it, or put the command in a script", what, c));
        } else {
            word += c;
        }
    }
    if (in_word) words.push_back(std::move(word));
    if (words.empty()) throw UsageError(fmt::format("{} is empty", what));
    return words;
}

std::string remote_command_line(const std::vector<std::string>& remote_argv) {
    std::string line = "exec";
    for (const auto& word : remote_argv) line += " " + worker::shell_quote(word);
    return line;
}

std::vector<std::string> ssh_command(const SshLogin& login, const std::vector<std::string>& ssh_program,
                                     const std::vector<std::string>& remote_argv,
                                     const std::vector<std::string>& options) {
    if (login.is_local) throw std::logic_error("ssh_command: the login ':' runs no ssh");
    std::vector<std::string> argv = login.ssh.empty() ? ssh_program : login.ssh;
    if (argv.empty()) argv.push_back("ssh");
    argv.insert(argv.end(), {"-T", "-e", "none", "-o", "BatchMode=yes"});
    if (login.port) argv.insert(argv.end(), {"-p", std::to_string(*login.port)});
    if (!login.user.empty()) argv.insert(argv.end(), {"-l", login.user});
    argv.insert(argv.end(), options.begin(), options.end());
    argv.push_back(login.host);
    if (!remote_argv.empty()) argv.push_back(remote_command_line(remote_argv));
    return argv;
}

}  // namespace ppool::remote
