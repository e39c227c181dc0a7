#include <doctest/doctest.h>

#include "os/load_guard.hpp"

#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <iostream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

using namespace ppool::os;

namespace {

/// Everything in the pipe now, without blocking.
std::string drain(const Fd& fd) {
    set_nonblocking(fd.get(), true);
    std::string out;
    while (read_some(fd.get(), out, 4096) == IoStatus::done) {
    }
    return out;
}

/// Points descriptors 1 and 2 at pipes of their own for the test's life and
/// puts the real ones back after.
struct CapturedStdio {
    Fd real_stdout{::fcntl(1, F_DUPFD_CLOEXEC, 3)};
    Fd real_stderr{::fcntl(2, F_DUPFD_CLOEXEC, 3)};
    Pipe out = make_pipe();
    Pipe err = make_pipe();

    CapturedStdio() {
        std::fflush(stdout);
        ::dup2(out.write.get(), 1);
        ::dup2(err.write.get(), 2);
    }
    ~CapturedStdio() {
        std::fflush(stdout);
        ::dup2(real_stdout.get(), 1);
        ::dup2(real_stderr.get(), 2);
    }
};

/// Runs `body` in a child with stderr on a pipe: (exit status, what it wrote to stderr).
template <typename Body>
std::pair<int, std::string> in_child(Body body) {
    std::fflush(nullptr);
    auto err = make_pipe();
    pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(err.write.get(), 2);
        body();
        ::_exit(99);
    }
    err.write.reset();
    int status = 0;
    ::waitpid(pid, &status, 0);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, drain(err.read)};
}

}  // namespace

TEST_CASE("StdoutToStderr sends what is written meanwhile to stderr, and only that") {
    std::string out, err;
    {
        CapturedStdio stdio;
        std::printf("before ");  // still buffered when the guard starts
        {
            StdoutToStderr guard;
            std::printf("printf ");
            std::cout << "cout ";
            [[maybe_unused]] auto n = ::write(1, "write ", 6);
        }
        std::printf("after");
        std::fflush(stdout);
        out = drain(stdio.out.read);
        err = drain(stdio.err.read);
    }
    CHECK(out == "before after");
    // The buffered prints go out when the guard ends, before stdout is back.
    CHECK(err == "write printf cout ");
}

TEST_CASE("StdoutToStderr leaves a closed stdout closed") {
    CapturedStdio stdio;
    ::close(1);
    {
        StdoutToStderr guard;
        CHECK(::fcntl(1, F_GETFD) >= 0);
    }
    CHECK(::fcntl(1, F_GETFD) < 0);
}

TEST_CASE("ExitTrap turns exit() into its message and status") {
    auto [status, err] = in_child([] {
        ExitTrap trap("start ", " end", 2);
        std::exit(7);
    });
    CHECK(status == 2);
    CHECK(err == "start exit(7) end\n");
}

TEST_CASE("ExitTrap catches quick_exit() too") {
    auto [status, err] = in_child([] {
        ExitTrap trap("start ", " end", 3);
        std::quick_exit(0);
    });
    CHECK(status == 3);
    CHECK(err == "start quick_exit() end\n");
}

TEST_CASE("ExitTrap is disarmed when it goes") {
    auto [status, err] = in_child([] {
        { ExitTrap trap("start ", " end", 2); }
        std::exit(5);
    });
    CHECK(status == 5);
    CHECK(err.empty());
}
