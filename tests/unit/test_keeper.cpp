#include <doctest/doctest.h>

#include "os/fd.hpp"
#include "os/keeper.hpp"
#include "os/process.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <poll.h>
#include <string>
#include <unistd.h>

using namespace ppool::os;

namespace {

/// Reads what `fd` carries until its end; what came first, and whether the end came within 30 s.
std::pair<std::string, bool> read_to_end(int fd) {
    std::string text;
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 30000) != 1) return {text, false};
        char buffer[256];
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return {text, true};
        text.append(buffer, static_cast<std::size_t>(n));
    }
}

/// Forks a process that splits off its keeper: its worker writes its own pid
/// and that of a command of its own group (a sleep in a child of the command)
/// on `up`, then does `then` to itself. Returns the keeper's pid.
pid_t start_kept(Pipe& up, int then) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid != 0) return pid;
    ::setpgid(0, 0);
    up.read.reset();
    split_off_keeper(SIGTERM, {up.write.get()});
    pid_t command = ::fork();
    if (command == 0) {
        ::setpgid(0, 0);
        if (::fork() == 0) ::execlp("sleep", "sleep", "300", static_cast<char*>(nullptr));
        ::pause();
        ::_exit(0);
    }
    ::setpgid(command, command);
    std::string pids = std::to_string(::getpid()) + " " + std::to_string(command) + "\n";
    [[maybe_unused]] ssize_t n = ::write(up.write.get(), pids.data(), pids.size());
    if (then == 0) ::_exit(0);
    ::kill(::getpid(), then);
    ::pause();
    ::_exit(1);
}

}  // namespace

TEST_CASE("a keeper ends what its worker left, ends as the worker ended, and only then closes the channel") {
    for (int how : {SIGKILL, 0}) {
        CAPTURE(how);
        Pipe up = make_pipe();
        pid_t keeper = start_kept(up, how);
        up.write.reset();
        auto [text, ended] = read_to_end(up.read.get());
        // The end of the channel comes once the command's group is gone.
        CHECK(ended);
        pid_t worker = 0, command = 0;
        REQUIRE(std::sscanf(text.c_str(), "%d %d", &worker, &command) == 2);
        CHECK(worker != keeper);
        CHECK((::kill(-command, 0) < 0 && errno == ESRCH));
        auto status = wait_for(keeper);
        if (how == SIGKILL) {
            CHECK(status.signal == SIGKILL);
        } else {
            CHECK(status.code == 0);
        }
    }
}

TEST_CASE("a keeper passes SIGTERM on to its worker") {
    Pipe up = make_pipe();
    pid_t keeper = ::fork();
    REQUIRE(keeper >= 0);
    if (keeper == 0) {
        ::setpgid(0, 0);
        up.read.reset();
        split_off_keeper(SIGTERM, {up.write.get()});
        std::signal(SIGTERM, SIG_DFL);
        sigset_t all;
        sigemptyset(&all);
        ::sigprocmask(SIG_SETMASK, &all, nullptr);
        [[maybe_unused]] ssize_t n = ::write(up.write.get(), "ready\n", 6);
        ::pause();
        ::_exit(1);
    }
    up.write.reset();
    char buffer[6];
    REQUIRE(::read(up.read.get(), buffer, sizeof buffer) == 6);
    ::kill(keeper, SIGTERM);
    CHECK(wait_for(keeper).signal == SIGTERM);
}
