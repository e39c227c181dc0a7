#include <doctest/doctest.h>

#include "ppool/errors.hpp"
#include "remote/ssh_command.hpp"

#include <cstdio>
#include <string>
#include <sys/wait.h>
#include <vector>

using ppool::UsageError;
using namespace ppool::remote;
using Words = std::vector<std::string>;

namespace {

/// What /bin/sh makes of `line` as the words of a command: each printed on a line of its own.
Words words_of_shell(const std::string& line) {
    std::string script = "set -- " + line.substr(std::string("exec").size()) +
                         "; for w in \"$@\"; do printf '%s\\0' \"$w\"; done";
    std::string quoted = "'";
    for (char c : script) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    quoted += "'";
    FILE* p = ::popen(("/bin/sh -c " + quoted).c_str(), "r");
    REQUIRE(p != nullptr);
    std::string out;
    char buffer[4096];
    while (std::size_t n = std::fread(buffer, 1, sizeof buffer, p)) out.append(buffer, n);
    REQUIRE(WEXITSTATUS(::pclose(p)) == 0);
    Words words;
    std::size_t start = 0;
    for (std::size_t end; (end = out.find('\0', start)) != std::string::npos; start = end + 1)
        words.push_back(out.substr(start, end - start));
    return words;
}

}  // namespace

TEST_CASE("split_command_line splits as sh would, expanding nothing") {
    CHECK(split_command_line("ssh", "--ssh") == Words{"ssh"});
    CHECK(split_command_line("  ssh -F my.conf\t-o BatchMode=no ", "--ssh") ==
          Words{"ssh", "-F", "my.conf", "-o", "BatchMode=no"});
    CHECK(split_command_line("ssh -o 'ProxyJump a b' -o \"User=x y\" a\\ b", "--ssh") ==
          Words{"ssh", "-o", "ProxyJump a b", "-o", "User=x y", "a b"});
    CHECK(split_command_line("ssh -o \"a\\\"b\\\\c\"", "--ssh") == Words{"ssh", "-o", "a\"b\\c"});
    CHECK(split_command_line("ssh ''", "--ssh") == Words{"ssh", ""});
    CHECK(split_command_line("/usr/bin/ssh -i /keys/id#1 -o x=a,b", "--ssh") ==
          Words{"/usr/bin/ssh", "-i", "/keys/id#1", "-o", "x=a,b"});
}

TEST_CASE("split_command_line refuses what needs a shell, and unclosed quotes") {
    CHECK_THROWS_WITH_AS(split_command_line("", "--ssh"), "--ssh is empty", UsageError);
    CHECK_THROWS_WITH_AS(split_command_line("ssh 'x", "--ssh"), "--ssh has an unclosed '", UsageError);
    CHECK_THROWS_WITH_AS(split_command_line("ssh \"x", "--ssh"), "--ssh has an unclosed \"", UsageError);
    CHECK_THROWS_WITH_AS(split_command_line("ssh x\\", "--ssh"), "--ssh ends with a backslash", UsageError);
    CHECK_THROWS_WITH_AS(split_command_line("ssh -i $HOME/k", "--ssh"),
                         "--ssh needs a shell for '$': quote it, or put the command in a script", UsageError);
    CHECK_THROWS_WITH_AS(split_command_line("ssh -o \"x=$y\"", "--ssh"),
                         "--ssh needs a shell to expand '$': write the value out", UsageError);
    for (auto line : {"ssh | cat", "ssh; rm x", "ssh > f", "ssh `x`", "ssh -i ~/k", "ssh *", "ssh &"})
        CHECK_THROWS_AS(split_command_line(line, "--ssh"), UsageError);
    CHECK(split_command_line("ssh '$HOME' \"~\"", "--ssh") == Words{"ssh", "$HOME", "~"});
}

TEST_CASE("ssh_command: ssh's options, then the host, then the remote command as one string") {
    SshLogin login;
    login.host = "example.org";
    CHECK(ssh_command(login, {"ssh"}, {"ppool", "worker", "--stdio"}) ==
          Words{"ssh", "-T", "-e", "none", "-o", "BatchMode=yes", "example.org", "exec 'ppool' 'worker' '--stdio'"});
    login.user = "alice";
    login.port = 2222;
    CHECK(ssh_command(login, {"ssh", "-F", "my config"}, {"ppool"}, {"-S", "/tmp/s"}) ==
          Words{"ssh", "-F", "my config", "-T", "-e", "none", "-o", "BatchMode=yes", "-p", "2222", "-l", "alice",
                "-S", "/tmp/s", "example.org", "exec 'ppool'"});
}

TEST_CASE("ssh_command: a login's own ssh command replaces --ssh; no remote command for -N") {
    auto login = parse_sshlogin("myssh -x host");
    CHECK(ssh_command(login, {"ssh", "-F", "cfg"}, {}, {"-N"}) ==
          Words{"myssh", "-x", "-T", "-e", "none", "-o", "BatchMode=yes", "-N", "host"});
    CHECK(ssh_command(parse_sshlogin("[::1]:22"), {}, {"true"}).at(6) == "-p");
    CHECK(ssh_command(parse_sshlogin("[::1]:22"), {}, {"true"}).at(8) == "::1");
    CHECK_THROWS(ssh_command(parse_sshlogin(":"), {"ssh"}, {"true"}));
}

TEST_CASE("the remote command reads back as the same words in sh") {
    Words argv{"/opt/my ppool/bin/ppool", "worker", "--stdio", "it's", "$(reboot)", "`id`", "a\"b", "\\", "", "*",
               "x\ny", "-", "{}", "!", "~"};
    auto line = remote_command_line(argv);
    CHECK(line.starts_with("exec "));
    CHECK(words_of_shell(line) == argv);
}
