#include <doctest/doctest.h>

#include "ppool/errors.hpp"
#include "remote/sshlogin.hpp"

#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

using ppool::UsageError;
using namespace ppool::remote;

namespace {

SshLogin login(std::optional<unsigned> slots, std::string user, std::string host, std::optional<std::uint16_t> port) {
    SshLogin l;
    l.slots = slots;
    l.user = std::move(user);
    l.host = std::move(host);
    l.port = port;
    return l;
}

/// The message of the UsageError that parsing `text` throws.
std::string error_of(const std::string& text) {
    try {
        parse_sshlogin(text);
    } catch (const UsageError& e) {
        return e.what();
    }
    return "(no error)";
}

/// A file with `content`, removed with the object.
struct TempText {
    std::string path;
    explicit TempText(const std::string& content) {
        char name[] = "/tmp/ppool-test-slf-XXXXXX";
        int fd = ::mkstemp(name);
        REQUIRE(fd >= 0);
        ::close(fd);
        path = name;
        std::ofstream(path, std::ios::binary) << content;
    }
    ~TempText() { std::remove(path.c_str()); }
};

}  // namespace

TEST_CASE("parse_sshlogin takes [N/][user@]host[:port]") {
    CHECK(parse_sshlogin("server") == login({}, "", "server", {}));
    CHECK(parse_sshlogin("alice@server.example.com") == login({}, "alice", "server.example.com", {}));
    CHECK(parse_sshlogin("8/my-8-cpu-server.example.com") == login(8, "", "my-8-cpu-server.example.com", {}));
    CHECK(parse_sshlogin("2/bob@host:2222") == login(2, "bob", "host", 2222));
    CHECK(parse_sshlogin("127.0.0.1:22") == login({}, "", "127.0.0.1", 22));
    CHECK(parse_sshlogin("  host_1  ") == login({}, "", "host_1", {}));
}

TEST_CASE("':' is this machine, with or without slots") {
    auto local = parse_sshlogin(":");
    CHECK(local.is_local);
    CHECK(local.host.empty());
    CHECK_FALSE(local.slots);
    auto sixteen = parse_sshlogin("16/:");
    CHECK(sixteen.is_local);
    CHECK(sixteen.slots == 16u);
    CHECK(sixteen.text() == "16/:");
}

TEST_CASE("IPv6 addresses: in brackets with a port, bare, or with GNU parallel's p and #") {
    CHECK(parse_sshlogin("[::1]:2222") == login({}, "", "::1", 2222));
    CHECK(parse_sshlogin("u@[2001:db8::1]") == login({}, "u", "2001:db8::1", {}));
    CHECK(parse_sshlogin("::1") == login({}, "", "::1", {}));
    CHECK(parse_sshlogin("::1p2222") == login({}, "", "::1", 2222));
    CHECK(parse_sshlogin("4/::1#2222") == login(4, "", "::1", 2222));
    CHECK(parse_sshlogin("[::1]:2222").text() == "[::1]:2222");
    CHECK(parse_sshlogin("::1").text() == "::1");
}

TEST_CASE("a login may carry its own ssh command, as in GNU parallel's sshloginfile") {
    auto l = parse_sshlogin("4/ssh -p 2222 quadserver.example.net");
    CHECK(l.slots == 4u);
    CHECK(l.ssh == std::vector<std::string>{"ssh", "-p", "2222"});
    CHECK(l.host == "quadserver.example.net");
    auto own = parse_sshlogin("6//usr/local/bin/myssh -p 2222 -l myusername hexacpu");
    CHECK(own.slots == 6u);
    CHECK(own.ssh == std::vector<std::string>{"/usr/local/bin/myssh", "-p", "2222", "-l", "myusername"});
    CHECK(own.host == "hexacpu");
    CHECK(own.text() == "6//usr/local/bin/myssh -p 2222 -l myusername hexacpu");
}

TEST_CASE("text() names a login as it was written") {
    CHECK(parse_sshlogin("2/bob@host:2222").text() == "2/bob@host:2222");
    CHECK(parse_sshlogin("host").text() == "host");
}

TEST_CASE("host_text() names the host as GNU parallel's joblog does: the login without N/") {
    CHECK(parse_sshlogin("2/bob@host:2222").host_text() == "bob@host:2222");
    CHECK(parse_sshlogin("host").host_text() == "host");
    CHECK(parse_sshlogin("4/:").host_text() == ":");
    CHECK(parse_sshlogin("3/[::1]:2222").host_text() == "[::1]:2222");
    CHECK(parse_sshlogin("6//usr/local/bin/myssh -p 2222 hexacpu").host_text() ==
          "/usr/local/bin/myssh -p 2222 hexacpu");
}

TEST_CASE("malformed logins are usage errors of one line") {
    CHECK(error_of("") == "empty sshlogin (expected [N/][user@]host[:port])");
    CHECK(error_of("0/host") == "bad sshlogin '0/host': the number of slots must be at least 1 "
                                "(expected [N/][user@]host[:port])");
    CHECK(error_of("host:0").find("'0' is not a port number (1-65535)") != std::string::npos);
    CHECK(error_of("host:65536").find("is not a port number") != std::string::npos);
    CHECK(error_of("host:ssh").find("'ssh' is not a port number") != std::string::npos);
    CHECK(error_of("host:").find("'' is not a port number") != std::string::npos);
    CHECK(error_of("user@").find("no host") != std::string::npos);
    CHECK(error_of("@host").find("host groups") != std::string::npos);
    CHECK(error_of("@grp/host").find("host groups (@GROUP/) are not supported") != std::string::npos);
    CHECK(error_of("user:secret@host").find("passwords are not supported") != std::string::npos);
    CHECK(error_of("-oProxyCommand=x").find("cannot start with '-'") != std::string::npos);
    CHECK(error_of("-l@host").find("is not a user name") != std::string::npos);
    CHECK(error_of("ho$t").find("'ho$t' is not a host name or address") != std::string::npos);
    CHECK(error_of("[::1").find("no ']'") != std::string::npos);
    CHECK(error_of("[::1]x").find("'x' after the address") != std::string::npos);
    CHECK(error_of("[host]:22").find("brackets hold an IPv6 address") != std::string::npos);
    CHECK(error_of("..").find("--sshloginfile") != std::string::npos);
    CHECK(error_of("ssh -o 'x host").find("unclosed '") != std::string::npos);
    CHECK(error_of("ssh : ").find("':' (this machine) takes no ssh command") != std::string::npos);
    for (auto text : {"", "0/host", "host:0", "a b$c d"})
        CHECK(error_of(text).find('\n') == std::string::npos);
}

TEST_CASE("parse_sshlogins splits on commas and newlines; ,, and \\, are commas") {
    auto logins = parse_sshlogins("a,2/b@c:22\nd,");
    REQUIRE(logins.size() == 3);
    CHECK(logins[0].host == "a");
    CHECK(logins[1] == login(2, "b", "c", 22));
    CHECK(logins[2].host == "d");
    auto jump = parse_sshlogins("ssh -J jump1,,jump2 host1,host2");
    REQUIRE(jump.size() == 2);
    CHECK(jump[0].ssh == std::vector<std::string>{"ssh", "-J", "jump1,jump2"});
    CHECK(jump[0].host == "host1");
    CHECK(jump[1].host == "host2");
    CHECK(parse_sshlogins("ssh -J a\\,b h")[0].ssh.back() == "a,b");
    CHECK(parse_sshlogins(" , ,").empty());
    CHECK_THROWS_AS(parse_sshlogins("a,b:x"), UsageError);
}

TEST_CASE("read_sshloginfile reads GNU parallel's format") {
    TempText file("server.example.com\n"
                  "username@server2.example.com\n"
                  "8/my-8-cpu-server.example.com\n"
                  "\n"
                  "   \t\n"
                  "# This server has SSH running on port 2222\n"
                  "  # an indented comment\n"
                  "ssh -p 2222 server.example.net\r\n"
                  "16/:\n"
                  "a, b   \n"
                  "last-without-newline");
    auto logins = read_sshloginfile(file.path);
    REQUIRE(logins.size() == 8);
    CHECK(logins[0].host == "server.example.com");
    CHECK(logins[1] == login({}, "username", "server2.example.com", {}));
    CHECK(logins[2].slots == 8u);
    CHECK(logins[3].ssh == std::vector<std::string>{"ssh", "-p", "2222"});
    CHECK(logins[3].host == "server.example.net");
    CHECK(logins[4].is_local);
    CHECK(logins[5].host == "a");
    CHECK(logins[6].host == "b");
    CHECK(logins[7].host == "last-without-newline");
}

TEST_CASE("read_sshloginfile names the file and the line of a bad login") {
    TempText file("good\n# fine\nbad:port\n");
    try {
        read_sshloginfile(file.path);
        FAIL("no error");
    } catch (const UsageError& e) {
        CHECK(std::string(e.what()) == file.path + ", line 3: bad sshlogin 'bad:port': 'port' is not a port number "
                                                   "(1-65535) (expected [N/][user@]host[:port])");
    }
    CHECK(read_sshloginfile(TempText("# only a comment\n\n").path).empty());
}

TEST_CASE("read_sshloginfile: a missing or unreadable file is a usage error") {
    try {
        read_sshloginfile("/nonexistent/ppool-slf");
        FAIL("no error");
    } catch (const UsageError& e) {
        CHECK(std::string(e.what()) == "cannot read sshloginfile '/nonexistent/ppool-slf': No such file or directory");
    }
    CHECK_THROWS_WITH_AS(read_sshloginfile("/tmp"), "cannot read sshloginfile '/tmp': not a regular file", UsageError);
}
