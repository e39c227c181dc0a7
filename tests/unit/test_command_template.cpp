#include <doctest/doctest.h>

#include "worker/command_template.hpp"

#include <stdexcept>

using namespace ppool;
using namespace ppool::worker;

namespace {
std::vector<std::string> build(std::vector<std::string> words, std::string_view item, std::uint64_t seq = 1,
                               int worker = 0) {
    return CommandTemplate(std::move(words)).build(TaskContext{item, seq, worker});
}
}  // namespace

TEST_CASE("several words run directly with plain-text substitution") {
    CHECK(build({"gzip", "-9", "{}"}, "a b.txt") == std::vector<std::string>{"gzip", "-9", "a b.txt"});
    CHECK(build({"echo", "x{}y"}, "$(reboot)") == std::vector<std::string>{"echo", "x$(reboot)y"});
    CHECK_FALSE(CommandTemplate({"echo", "a b"}).uses_shell());
}

TEST_CASE("without a replacement string the item is appended") {
    CHECK(build({"echo"}, "it") == std::vector<std::string>{"echo", "it"});
    CHECK(build({"echo hi"}, "x y") == std::vector<std::string>{"/bin/sh", "-c", "echo hi 'x y'"});
    CHECK(CommandTemplate({"true"}, false).build(TaskContext{"", 1, 0}) == std::vector<std::string>{"true"});
}

TEST_CASE("one word with shell syntax runs under sh with quoted values") {
    auto argv = build({"grep -c foo {} | tee {}.count"}, "x; rm -rf ~");
    REQUIRE(argv.size() == 3);
    CHECK(argv[0] == "/bin/sh");
    CHECK(argv[2] == "grep -c foo 'x; rm -rf ~' | tee 'x; rm -rf ~'.count");
    CHECK(build({"echo {}"}, "it's")[2] == "echo 'it'\\''s'");
}

TEST_CASE("needs_shell looks past the replacement strings") {
    CHECK_FALSE(needs_shell("gzip"));
    CHECK_FALSE(needs_shell("{}"));
    CHECK_FALSE(needs_shell("{/.}"));
    CHECK(needs_shell("a b"));
    CHECK(needs_shell("a|b"));
    CHECK(needs_shell("$HOME"));
    CHECK(needs_shell("a>b"));
}

TEST_CASE("every replacement string") {
    TaskContext c{"dir.d/sub/file.tar.gz", 7, 2};
    CHECK(token_value(Token::item, c) == "dir.d/sub/file.tar.gz");
    CHECK(token_value(Token::no_ext, c) == "dir.d/sub/file.tar");
    CHECK(token_value(Token::basename, c) == "file.tar.gz");
    CHECK(token_value(Token::dirname, c) == "dir.d/sub");
    CHECK(token_value(Token::basename_no_ext, c) == "file.tar");
    CHECK(token_value(Token::seq, c) == "7");
    CHECK(token_value(Token::slot, c) == "3");
    CHECK(token_value(Token::no_ext, TaskContext{"dir.d/file", 1, 0}) == "dir.d/file");
    CHECK(token_value(Token::no_ext, TaskContext{".bashrc", 1, 0}) == ".bashrc");
    CHECK(token_value(Token::dirname, TaskContext{"file", 1, 0}) == ".");
    CHECK(token_value(Token::dirname, TaskContext{"/file", 1, 0}) == "/");
    CHECK(build({"cp", "{}", "{/.}.{#}.{%}"}, "a/b.c", 4, 0) == std::vector<std::string>{"cp", "a/b.c", "b.4.1"});
}

TEST_CASE("values are quoted for where they stand: bare, in '...' or in \"...\"") {
    std::string evil = "$(touch PWNED) `id` \"q\" 'a' \\";
    auto script = [&](std::string word) { return build({std::move(word)}, evil)[2]; };
    CHECK(script("echo {}") == "echo " + shell_quote(evil));
    CHECK(script("echo '{}'") == "echo '" + std::string("'") + shell_quote(evil) + "''");
    CHECK(script("echo \"x{}y\"") == "echo \"x\\$(touch PWNED) \\`id\\` \\\"q\\\" 'a' \\\\y\"");
    // Inside $(...) within double quotes the shell starts over unquoted.
    CHECK(script("echo \"$(cat {})\"") == "echo \"$(cat " + shell_quote(evil) + ")\"");
    // An escaped quote does not open a quoted string.
    CHECK(script("echo \\\" {}") == "echo \\\" " + shell_quote(evil));
    CHECK(quote_for(ShellContext::double_quoted, "plain") == "plain");
}

TEST_CASE("values inside backquotes survive the backslash removal of `...`") {
    CHECK(build({"echo \"`printf %s {}`\""}, "a\\$b")[2] == "echo \"`printf %s 'a\\\\\\$b'`\"");
    CHECK(build({"echo `printf %s {}`"}, "a`b")[2] == "echo `printf %s 'a\\`b'`");
    // After the backquotes close, the context is the outer script's again.
    CHECK(build({"echo `true` {}"}, "a`b")[2] == "echo `true` 'a`b'");
    // An escaped brace inside backquotes is literal, as outside them.
    CHECK(build({"echo `echo \\{}`"}, "x")[2] == "echo `echo \\{}` 'x'");
}

TEST_CASE("an appended item is quoted for where the command ends") {
    CHECK(build({"echo \"x"}, "$y")[2] == "echo \"x \\$y");
    CHECK(build({"echo 'x"}, "$y")[2] == "echo 'x ''$y''");
}

TEST_CASE("an item with a NUL byte cannot become an argument") {
    CHECK_THROWS_AS(build({"echo", "{}"}, std::string_view("a\0b", 3)), std::invalid_argument);
    CHECK_THROWS_AS(build({"echo {}"}, std::string_view("a\0b", 3)), std::invalid_argument);
}
