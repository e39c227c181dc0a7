#include <doctest/doctest.h>

#include "os/fd.hpp"
#include "os/private_dir.hpp"
#include "os/process.hpp"
#include "os/spawn.hpp"
#include "os/tied_spawn.hpp"
#include "temp_files.hpp"

#include <cerrno>
#include <csignal>
#include <fstream>
#include <poll.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace ppool::os;
using namespace std::chrono_literals;

namespace {

SpawnRequest request(std::vector<std::string> argv) {
    return SpawnRequest{std::move(argv), {"PATH=/usr/bin:/bin"}, -1, -1, -1, true, nullptr};
}

/// Whether `pid` (not necessarily a child) ends within `timeout`: its pidfd becomes readable.
bool ends_within(pid_t pid, std::chrono::seconds timeout) {
    Fd pidfd(open_pidfd(pid));
    if (!pidfd) return errno == ESRCH;
    pollfd p{pidfd.get(), POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(std::chrono::milliseconds(timeout).count())) == 1;
}

}  // namespace

TEST_CASE("spawn_tied runs a command found in PATH and reports a missing one") {
    auto spawned = spawn_tied(request({"sh", "-c", "exit 3"}), SIGTERM);
    REQUIRE(spawned.error == 0);
    auto status = reap_by(spawned.pid, Clock::now() + 30s);
    REQUIRE(status);
    CHECK(status->code == 3);
    CHECK(spawn_tied(request({"ppool-no-such-program"}), SIGTERM).error == ENOENT);
    CHECK(spawn_tied(request({"/nonexistent/program"}), SIGTERM).error == ENOENT);
    CHECK(spawn_tied(request({"/etc"}), SIGTERM).error == EACCES);
}

TEST_CASE("wait_for_end waits until the deadline or the end, without reaping") {
    auto spawned = spawn_tied(request({"sleep", "300"}), SIGTERM);
    REQUIRE(spawned.error == 0);
    CHECK_FALSE(wait_for_end(spawned.pid, Clock::now() + 50ms));
    CHECK_FALSE(reap_by(spawned.pid, Clock::now() + 10ms));
    signal_group(spawned.pid, SIGKILL);
    CHECK(wait_for_end(spawned.pid, Clock::now() + 30s));
    CHECK(::kill(spawned.pid, 0) == 0);  // not reaped: the pid is still held
    CHECK(wait_for(spawned.pid).signal == SIGKILL);
}

TEST_CASE("a tied child ends when the process that started it is killed") {
    Pipe report = make_pipe();
    pid_t starter = ::fork();
    REQUIRE(starter >= 0);
    if (starter == 0) {
        auto spawned = spawn_tied(request({"sleep", "300"}), SIGTERM);
        [[maybe_unused]] auto n = ::write(report.write.get(), &spawned.pid, sizeof spawned.pid);
        ::pause();
        ::_exit(0);
    }
    report.write.reset();
    pid_t sleeper = -1;
    REQUIRE(::read(report.read.get(), &sleeper, sizeof sleeper) == static_cast<ssize_t>(sizeof sleeper));
    REQUIRE(sleeper > 0);
    ::kill(starter, SIGKILL);
    wait_for(starter);
    CHECK(ends_within(sleeper, 30s));
}

TEST_CASE("PrivateDir is a 0700 directory, removed with its files") {
    std::string path;
    {
        auto dir = PrivateDir::create("ppool-test");
        path = dir.path();
        struct stat st {};
        REQUIRE(::stat(path.c_str(), &st) == 0);
        CHECK(S_ISDIR(st.st_mode));
        CHECK((st.st_mode & 0777) == 0700);
        std::ofstream(path + "/file") << "x";
        PrivateDir moved = std::move(dir);
        CHECK(dir.path().empty());
        CHECK(moved.path() == path);
    }
    CHECK(::access(path.c_str(), F_OK) != 0);
}

TEST_CASE("find_program searches PATH as execvp does, and ProgramPaths keeps what it found") {
    ppool::test::TempDir a, b;
    auto program = [](const std::string& dir, mode_t mode) {
        std::string path = dir + "/prog";
        std::ofstream(path) << "#!/bin/sh\n";
        REQUIRE(::chmod(path.c_str(), mode) == 0);
        return path;
    };
    std::string path = a.path + ":" + b.path;
    CHECK(find_program("prog", path).empty());
    CHECK(find_program("./prog", path) == "./prog");
    auto in_b = program(b.path, 0755);
    // A file that may not be executed is passed over, and so is a directory.
    program(a.path, 0644);
    ppool::test::TempDir c;
    REQUIRE(::mkdir((c.path + "/prog").c_str(), 0755) == 0);
    CHECK(find_program("prog", c.path + ":" + b.path) == in_b);
    CHECK(find_program("prog", path) == in_b);

    ProgramPaths paths;
    CHECK(paths.find("prog", path) == in_b);
    auto in_a = program(a.path, 0755);
    CHECK(paths.find("prog", path) == in_b);
    paths.forget("prog");
    CHECK(paths.find("prog", path) == in_a);
    // Another PATH: nothing found in the old one counts.
    CHECK(paths.find("prog", b.path) == in_b);
}
