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

namespace {
std::string args_item(std::vector<std::string> args) {
    std::string item;
    for (const auto& arg : args) append_arg(item, arg);
    return item;
}

std::vector<std::string> build_line(CommandLine line, std::vector<std::string> args) {
    auto item = args_item(std::move(args));
    return CommandTemplate(line).build(TaskContext{item, 7, 0});
}
}  // namespace

TEST_CASE("a list of arguments survives any bytes") {
    std::vector<std::string> args{"", "a:b", std::string("x\0y", 3), "12:", "\n"};
    auto item = args_item(args);
    auto back = split_args(item);
    REQUIRE(back.size() == args.size());
    for (std::size_t i = 0; i < args.size(); ++i) CHECK(back[i] == args[i]);
    CHECK(join_args(args_item({"a", "b c"})) == "a b c");
    CHECK(split_args("").empty());
    CHECK_THROWS_AS(split_args("5:ab"), std::invalid_argument);
    CHECK_THROWS_AS(split_args("x:ab"), std::invalid_argument);
    CHECK_THROWS_AS(split_args("ab"), std::invalid_argument);
}

TEST_CASE("{N} and its variants are the Nth argument") {
    CommandLine line{{"echo", "{2}", "{1.}", "{1/}", "{2//}", "{2/.}", "{3}", "{#}"}};
    line.item_is_args = true;
    CHECK(build_line(line, {"d/a.x", "e/f.g"}) ==
          std::vector<std::string>{"echo", "e/f.g", "d/a", "a.x", "e", "f", "", "7"});
    // A single item is {1}.
    CHECK(build({"echo", "{1}", "[{2}]"}, "it") == std::vector<std::string>{"echo", "it", "[]"});
}

TEST_CASE("{} is every argument as a word, the text around it on the first and last") {
    CommandLine line{{"printf", "x{}y"}};
    line.item_is_args = true;
    CHECK(build_line(line, {"a", "b c", "d"}) == std::vector<std::string>{"printf", "xa", "b c", "dy"});
    CommandLine appended{{"echo"}};
    appended.item_is_args = true;
    CHECK(build_line(appended, {"a", "b"}) == std::vector<std::string>{"echo", "a", "b"});
}

TEST_CASE("-X repeats the word around {} for every argument") {
    CommandLine line{{"echo", "x{}y", "{1}"}};
    line.item_is_args = true;
    line.context_replace = true;
    CHECK(build_line(line, {"a", "b"}) == std::vector<std::string>{"echo", "xay", "xby", "a"});
}

TEST_CASE("a shell command quotes every argument") {
    CommandLine line{{"echo {} | tee {1}"}};
    line.item_is_args = true;
    CHECK(build_line(line, {"a b", "$(x)"}) ==
          std::vector<std::string>{"/bin/sh", "-c", "echo 'a b' '$(x)' | tee 'a b'"});
    CommandLine appended{{"echo hi"}};
    appended.item_is_args = true;
    CHECK(build_line(appended, {"a b", "c"}) == std::vector<std::string>{"/bin/sh", "-c", "echo hi 'a b' 'c'"});
}

TEST_CASE("-I: the replacement string stands for the item, {} is text") {
    CommandLine line{{"echo", "{}", "[@@]", "{.}"}};
    line.replace = "@@";
    CHECK(CommandTemplate(line).build(TaskContext{"a.x", 1, 0}) ==
          std::vector<std::string>{"echo", "{}", "[a.x]", "a"});
}

TEST_CASE("an argument with a NUL byte cannot be one") {
    CommandLine line{{"echo"}};
    line.item_is_args = true;
    CHECK_THROWS_AS(build_line(line, {std::string("a\0b", 3)}), std::invalid_argument);
}

namespace {
std::vector<std::string> build_one(CommandLine line, std::string_view item) {
    return CommandTemplate(line).build(TaskContext{item, 1, 0});
}
}  // namespace

TEST_CASE("shell operators among several words") {
    CHECK(has_shell_operator({"echo", "{}", ">", "out_{}.txt"}));
    CHECK(has_shell_operator({"grep", "x", "{}", "|", "wc", "-l"}));
    CHECK(has_shell_operator({"make", "{}", "&&", "echo", "ok"}));
    CHECK(has_shell_operator({"cmd", "{}", "2>&1"}));
    CHECK(has_shell_operator({"echo", "{}", ">>log_{}"}));
    // The first word is the program, whatever its name.
    CHECK_FALSE(has_shell_operator({">", "{}"}));
    CHECK_FALSE(has_shell_operator({"echo", "a>b", "{}", "<html>", "->"}));
    // find's -exec ends with a `;` of its own; another `;` is the shell's.
    CHECK_FALSE(has_shell_operator({"find", "{}", "-exec", "rm", "{}", ";"}));
    CHECK_FALSE(has_shell_operator({"find", "{}", "-exec", "a", "{}", ";", "-execdir", "b", ";", "-print"}));
    CHECK(has_shell_operator({"find", "{}", "-exec", "a", "{}", ";", ";", "echo"}));
}

TEST_CASE("several words in a shell keep every word but the operators as they were") {
    CHECK(script_of({"echo", "{}", ">", "out_{}.txt"}) == "echo {} > out_{}.txt");
    CHECK(script_of({"echo", "$HOME", "a b", "{}", "|", "tr", "a-z", "A-Z"}) ==
          "echo '$HOME' 'a b' {} | tr a-z A-Z");
    CHECK(script_of({"grep", "it's{}", "&&", "x"}) == "grep 'it'\\''s'{} && x");
    CHECK(script_of({"find", "{}", "-exec", "rm", "{}", ";", "|", "wc"}) == "find {} -exec rm {} ';' | wc");
    CHECK(script_of({"mv", "X", "X.bak"}, "X") == "mv X X.bak");
    // The first word is the program, never an operator.
    CHECK(script_of({">", "x", "|", "y"}) == "'>' x | y");

    CommandLine line{{"echo", "{}", ">", "out_{}.txt"}};
    line.in_shell = true;
    CHECK(build_one(line, "a b; rm -rf ~") ==
          std::vector<std::string>{"/bin/sh", "-c", "echo 'a b; rm -rf ~' > out_'a b; rm -rf ~'.txt"});
    line.shell = "/bin/bash";
    CHECK(build_one(line, "x").front() == "/bin/bash");
}

TEST_CASE("{:raw} goes into a script unquoted, and makes the command one") {
    CHECK(build({"echo $(( {:raw} * 10 ))"}, "3")[2] == "echo $(( 3 * 10 ))");
    CHECK(build({"echo $(( {:raw} * {} ))"}, "3")[2] == "echo $(( 3 * '3' ))");
    // A single word that is only {:raw} is a script too.
    CHECK(build({"{:raw}"}, "ls -l") == std::vector<std::string>{"/bin/sh", "-c", "ls -l"});
    // Among several words, the word holding it is shell code as typed; the others stay words.
    CHECK(build({"echo", "$(( {:raw} * 10 ))", "a b"}, "4") ==
          std::vector<std::string>{"/bin/sh", "-c", "echo $(( 4 * 10 )) 'a b'"});
    // Several arguments: {2:raw} is the second, unquoted.
    CommandLine args{{"echo {1} {2:raw}"}};
    args.item_is_args = true;
    std::string item;
    append_arg(item, "a b");
    append_arg(item, "$X");
    CHECK(build_one(args, item)[2] == "echo 'a b' $X");
    // Without it, nothing an item holds is ever code.
    CHECK(build({"echo $(( {} * 10 ))"}, "3")[2] == "echo $(( '3' * 10 ))");
}

TEST_CASE("an empty word stays a word in a script") {
    CHECK(script_of({"printf", "[%s]", "", "{}", "|", "cat"}) == "printf '[%s]' '' {} | cat");
    CHECK(script_of({"x{}", "|", "y"}) == "x{} | y");
}

TEST_CASE("expand fills the words as plain text, quoting nothing and appending nothing") {
    using ppool::worker::CommandTemplate;
    CommandTemplate tag(std::vector<std::string>{"x{}-{#} {/.}"}, false);
    CHECK(tag.has_token());
    CHECK(tag.expand(ppool::TaskContext{"d/it's a.txt", 3, 0}) == "xd/it's a.txt-3 it's a");
    CHECK_FALSE(CommandTemplate(std::vector<std::string>{"plain"}, false).has_token());
    CHECK(CommandTemplate(std::vector<std::string>{"plain"}, false).expand(ppool::TaskContext{"a", 1, 0}) == "plain");
    ppool::CommandLine line{{"{2}:{1.}"}, false, false, true};
    std::string item;
    ppool::worker::append_arg(item, "a.x");
    ppool::worker::append_arg(item, "c");
    CHECK(CommandTemplate(line).expand(ppool::TaskContext{item, 1, 0}) == "c:a");
}
