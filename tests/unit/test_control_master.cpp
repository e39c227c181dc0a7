#include <doctest/doctest.h>

#include "os/fd.hpp"
#include "os/file.hpp"
#include "os/process.hpp"
#include "os/spawn.hpp"
#include "remote/control_master.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <poll.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace ppool;
using namespace ppool::remote;
using namespace std::chrono_literals;

namespace {

/// The output of `argv` (stdin /dev/null), and its exit code.
std::pair<std::string, int> output_of(const std::vector<std::string>& argv) {
    auto out = os::make_pipe();
    auto null = os::open_dev_null();
    std::vector<std::string> env{"PATH=/usr/bin:/bin"};
    auto spawned = os::spawn(os::SpawnRequest{argv, env, null.get(), out.write.get(), -1, true, nullptr});
    REQUIRE(spawned.error == 0);
    out.write.reset();
    std::string text;
    char buffer[4096];
    for (ssize_t n; (n = ::read(out.read.get(), buffer, sizeof buffer)) > 0;) text.append(buffer, n);
    return {text, os::wait_for(spawned.pid).code};
}

/// Whether `pid` (not necessarily a child) ends within `timeout`.
bool ends_within(pid_t pid, std::chrono::seconds timeout) {
    os::Fd pidfd(os::open_pidfd(pid));
    if (!pidfd) return errno == ESRCH;
    pollfd p{pidfd.get(), POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(std::chrono::milliseconds(timeout).count())) == 1;
}

std::vector<pid_t> children_of(pid_t parent) {
    std::vector<pid_t> children;
    DIR* proc = ::opendir("/proc");
    while (dirent* entry = ::readdir(proc)) {
        std::ifstream stat(std::string("/proc/") + entry->d_name + "/stat");
        std::string line;
        if (!std::getline(stat, line)) continue;
        auto close = line.rfind(')');
        if (close == std::string::npos) continue;
        char state = 0;
        int ppid = 0;
        if (std::sscanf(line.c_str() + close + 2, "%c %d", &state, &ppid) == 2 && ppid == parent && state != 'Z')
            children.push_back(std::atoi(entry->d_name));
    }
    ::closedir(proc);
    return children;
}

/// The test sshd that tests/scaleout/sshd.sh started (see tests/CMakeLists.txt):
/// its client configuration and its listener's pid; nothing when it does not run.
struct TestSshd {
    std::string config;
    pid_t listener = -1;
};

std::optional<TestSshd> test_sshd() {
    const char* dir = std::getenv("PPOOL_SCALEOUT_DIR");
    if (!dir) return std::nullopt;
    std::string base = std::string(dir) + "/sshd/";
    std::ifstream pidfile(base + "sshd.pid");
    TestSshd sshd{base + "ssh_config", -1};
    if (!(pidfile >> sshd.listener) || ::kill(sshd.listener, 0) != 0) return std::nullopt;
    return sshd;
}

/// The sshd, or nothing: then the test is skipped (ctest sees the line), or
/// fails where it must run (PPOOL_REQUIRE_SCALEOUT=1, CI).
std::optional<TestSshd> sshd_or_skip() {
    auto sshd = test_sshd();
    if (!sshd) {
        const char* require = std::getenv("PPOOL_REQUIRE_SCALEOUT");
        if (require && std::string(require) == "1") FAIL("the test sshd is not running (PPOOL_REQUIRE_SCALEOUT=1)");
        std::puts("skipped: sshd unavailable (as root: bash tests/scaleout/sshd.sh start, or run it with ctest)");
    }
    return sshd;
}

SshLogin test_login() { return parse_sshlogin("ppooltest@127.0.0.1"); }

/// Until this sshd serves no connection, at most `timeout`.
bool sessions_end(pid_t listener, std::chrono::seconds timeout) {
    for (auto deadline = std::chrono::steady_clock::now() + timeout; std::chrono::steady_clock::now() < deadline;) {
        auto sessions = children_of(listener);
        if (sessions.empty()) return true;
        ends_within(sessions.front(), 1s);
    }
    return children_of(listener).empty();
}

}  // namespace

TEST_CASE("a master that never connects is given up after the timeout, and stopped") {
    // A stand-in for ssh that never makes its socket.
    auto start = std::chrono::steady_clock::now();
    try {
        ControlMaster master(parse_sshlogin("nowhere"), {"sh", "-c", "echo waiting >&2; exec sleep 300", "fake-ssh"},
                             300ms);
        FAIL("no error");
    } catch (const ConnectError& e) {
        CHECK(std::string(e.what()) == "cannot connect to nowhere: no connection after 0.3 s: waiting");
    }
    CHECK(std::chrono::steady_clock::now() - start < 20s);
}

TEST_CASE("a master whose ssh cannot run says so") {
    CHECK_THROWS_WITH_AS(ControlMaster(parse_sshlogin("h"), {"ppool-no-such-ssh"}, 1s),
                         "cannot connect to h: cannot run ppool-no-such-ssh: No such file or directory", ConnectError);
}

TEST_SUITE("sshd") {
    TEST_CASE("one master carries every slot's session, and nothing is left once it stops") {
        auto sshd = sshd_or_skip();
        if (!sshd) return;
        ControlMaster master(test_login(), {"ssh", "-F", sshd->config}, 60s);
        struct stat st {};
        REQUIRE(::stat(master.socket().c_str(), &st) == 0);
        CHECK(S_ISSOCK(st.st_mode));
        auto dir = master.socket().substr(0, master.socket().rfind('/'));
        REQUIRE(::stat(dir.c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0700);
        CHECK(master.check());

        // Every session comes over the master's one TCP connection: the same client port.
        std::vector<std::string> connections;
        for (int slot = 0; slot < 3; ++slot) {
            auto [out, code] = output_of(master.command({"sh", "-c", "echo \"$SSH_CONNECTION\" \"$1\"", "sh", "it's"}));
            CHECK(code == 0);
            connections.push_back(out);
        }
        CHECK(connections[0].ends_with(" it's\n"));
        CHECK(connections[1] == connections[0]);
        CHECK(connections[2] == connections[0]);

        pid_t pid = master.pid();
        master.stop();
        CHECK(master.pid() == -1);
        CHECK(::kill(pid, 0) != 0);  // reaped
        CHECK(::access(dir.c_str(), F_OK) != 0);
        CHECK_FALSE(master.check());
        CHECK(sessions_end(sshd->listener, 30s));
        master.stop();  // idempotent
    }

    TEST_CASE("a refused connection is a ConnectError with ssh's words") {
        auto sshd = sshd_or_skip();
        if (!sshd) return;
        try {
            ControlMaster master(parse_sshlogin("ppooltest@127.0.0.1:1"), {"ssh", "-F", sshd->config}, 60s);
            FAIL("no error");
        } catch (const ConnectError& e) {
            CHECK(std::string(e.what()) ==
                  "cannot connect to ppooltest@127.0.0.1:1: ssh ended (exit status 255): "
                  "ssh: connect to host 127.0.0.1 port 1: Connection refused");
        }
    }

    TEST_CASE("the master ends when the process that started it is killed") {
        auto sshd = sshd_or_skip();
        if (!sshd) return;
        // The killed owner cannot remove the master's directory: it is made in one the test removes.
        auto base = std::filesystem::temp_directory_path() / ("ppool-test-master-" + std::to_string(::getpid()));
        std::filesystem::create_directory(base);
        os::Pipe report = os::make_pipe();
        pid_t owner = ::fork();
        REQUIRE(owner >= 0);
        if (owner == 0) {
            ::setenv("TMPDIR", base.c_str(), 1);
            ControlMaster master(test_login(), {"ssh", "-F", sshd->config}, 60s);
            pid_t pid = master.pid();
            [[maybe_unused]] auto n = ::write(report.write.get(), &pid, sizeof pid);
            ::pause();
            ::_exit(0);
        }
        report.write.reset();
        pid_t master = -1;
        REQUIRE(::read(report.read.get(), &master, sizeof master) == static_cast<ssize_t>(sizeof master));
        ::kill(owner, SIGKILL);
        os::wait_for(owner);
        CHECK(ends_within(master, 30s));
        CHECK(sessions_end(sshd->listener, 30s));
        std::filesystem::remove_all(base);
    }
}
