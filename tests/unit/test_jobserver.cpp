// The GNU make jobserver client over pipes and fifos the tests create.
#include <doctest/doctest.h>

#include "os/jobserver.hpp"

#include <algorithm>
#include <cstdlib>
#include <fcntl.h>
#include <fmt/format.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace ppool::os;

namespace {

/// A pipe holding `tokens`, as make would set it up.
Pipe token_pipe(std::string_view tokens) {
    auto p = make_pipe();
    write_all(p.write.get(), tokens);
    return p;
}

/// What is in the pipe now, without blocking.
std::string drain(int fd) {
    std::string out;
    int fl = ::fcntl(fd, F_GETFL);
    ::fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    while (read_some(fd, out, 64) == IoStatus::done) {
    }
    ::fcntl(fd, F_SETFL, fl);
    std::sort(out.begin(), out.end());
    return out;
}

/// What `--jobserver-auth=R,W` says.
JobserverAuth fds(int read_fd, int write_fd) {
    return JobserverAuth{{}, read_fd, write_fd, fmt::format("--jobserver-auth={},{}", read_fd, write_fd)};
}

/// What `--jobserver-auth=fifo:PATH` says.
JobserverAuth fifo_at(const std::string& path) { return JobserverAuth{path, -1, -1, "--jobserver-auth=fifo:" + path}; }

std::string sorted(std::string s) {
    std::sort(s.begin(), s.end());
    return s;
}

}  // namespace

TEST_CASE("MAKEFLAGS: the jobserver options of every make") {
    CHECK_FALSE(parse_makeflags(""));
    CHECK_FALSE(parse_makeflags("ks -j4"));
    auto a = parse_makeflags(" -j4 --jobserver-auth=3,4");
    REQUIRE(a);
    CHECK(a->fifo.empty());
    CHECK(a->read_fd == 3);
    CHECK(a->write_fd == 4);
    auto old = parse_makeflags(" -j2 --jobserver-fds=5,6 -j");
    REQUIRE(old);
    CHECK(old->read_fd == 5);
    CHECK(old->write_fd == 6);
    auto fifo = parse_makeflags("s -j8 --jobserver-auth=fifo:/tmp/GMfifo1234");
    REQUIRE(fifo);
    CHECK(fifo->fifo == "/tmp/GMfifo1234");
    auto spaced = parse_makeflags("-j3 --jobserver-auth=fifo:/tmp/a\\ b -- CC=cc");
    REQUIRE(spaced);
    CHECK(spaced->fifo == "/tmp/a b");
}

TEST_CASE("MAKEFLAGS: the last occurrence wins; -j1 and negative fds mean none") {
    auto last = parse_makeflags("-j4 --jobserver-fds=3,4 --jobserver-auth=fifo:/x");
    REQUIRE(last);
    CHECK(last->fifo == "/x");
    auto back = parse_makeflags("-j4 --jobserver-auth=fifo:/x --jobserver-auth=7,8");
    REQUIRE(back);
    CHECK(back->fifo.empty());
    CHECK(back->read_fd == 7);
    CHECK_FALSE(parse_makeflags("-j1 --jobserver-auth=3,4"));
    CHECK(parse_makeflags("-j1 -j2 --jobserver-auth=3,4"));
    CHECK_FALSE(parse_makeflags("-j4 --jobserver-auth=-2,-2"));
    // After "--" come variable definitions, whatever they look like.
    CHECK_FALSE(parse_makeflags("-j4 -- X=--jobserver-auth=3,4"));
}

TEST_CASE("MAKEFLAGS: the word naming the jobserver is kept, also when its value is malformed") {
    CHECK(parse_makeflags(" -j4 --jobserver-auth=3,4")->word == "--jobserver-auth=3,4");
    CHECK(parse_makeflags(" -j4 --jobserver-fds=3,4")->word == "--jobserver-fds=3,4");
    CHECK(parse_makeflags("-j4 --jobserver-auth=fifo:/tmp/a\\ b")->word == "--jobserver-auth=fifo:/tmp/a b");
    for (std::string junk : {"junk", "3,", ",4", "3", "fifo:", "x,y", ""}) {
        auto auth = parse_makeflags("-j4 --jobserver-auth=3,4 --jobserver-auth=" + junk);
        REQUIRE(auth);
        CHECK(auth->word == "--jobserver-auth=" + junk);
        std::string problem;
        CHECK_FALSE(Jobserver::open(*auth, &problem));
        CHECK(problem == "make's jobserver (MAKEFLAGS --jobserver-auth=" + junk + ") cannot be used ('" + junk +
                             "' is neither R,W nor fifo:PATH)");
    }
}

TEST_CASE("pipe: tokens are taken without blocking and the same bytes go back") {
    auto p = token_pipe("ab");
    auto js = Jobserver::open(fds(p.read.get(), p.write.get()));
    REQUIRE(js);
    CHECK(js->poll_fd() >= 0);
    CHECK(js->try_acquire());
    CHECK(js->try_acquire());
    CHECK_FALSE(js->try_acquire());
    CHECK(js->held() == 2);
    js->release();
    CHECK(js->held() == 1);
    CHECK(drain(p.read.get()).size() == 1);
    js->release_all();
    CHECK(js->held() == 0);
    js->release();  // nothing held: a no-op
    CHECK(drain(p.read.get()).size() == 1);
    // make's own description of the pipe is left blocking.
    CHECK((::fcntl(p.read.get(), F_GETFL) & O_NONBLOCK) == 0);
    CHECK((::fcntl(p.write.get(), F_GETFL) & O_NONBLOCK) == 0);
}

TEST_CASE("pipe: each token goes back as the byte it was") {
    auto p = token_pipe("+x");
    {
        auto js = Jobserver::open(fds(p.read.get(), p.write.get()));
        REQUIRE(js);
        REQUIRE(js->try_acquire());
        REQUIRE(js->try_acquire());
        js->release();
        js->release();
    }
    CHECK(drain(p.read.get()) == sorted("+x"));
}

TEST_CASE("the destructor gives back every token held, once, even after a move") {
    auto p = token_pipe("123");
    {
        auto js = Jobserver::open(fds(p.read.get(), p.write.get()));
        REQUIRE(js);
        REQUIRE(js->try_acquire());
        REQUIRE(js->try_acquire());
        Jobserver moved(std::move(*js));
        CHECK(moved.held() == 2);
        CHECK(moved.try_acquire());
        CHECK_FALSE(moved.try_acquire());
        auto other = Jobserver::open(fds(p.read.get(), p.write.get()));
        REQUIRE(other);
        // Assigning over a client gives back what it held first (none here).
        *other = std::move(moved);
        CHECK(other->held() == 3);
    }
    CHECK(drain(p.read.get()) == "123");
}

TEST_CASE("fifo: tokens are taken and given back") {
    char dir[] = "/tmp/ppool-js-XXXXXX";
    REQUIRE(::mkdtemp(dir));
    std::string path = std::string(dir) + "/fifo";
    REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
    // Held open by the test as make would: reader and writer in one.
    Fd make_end(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    REQUIRE(make_end);
    write_all(make_end.get(), "++");
    {
        auto js = Jobserver::open(fifo_at(path));
        REQUIRE(js);
        CHECK(js->try_acquire());
        CHECK(js->try_acquire());
        CHECK_FALSE(js->try_acquire());
        js->release();
        CHECK(js->try_acquire());
    }
    CHECK(drain(make_end.get()) == "++");
    ::unlink(path.c_str());
    ::rmdir(dir);
    std::string problem;
    CHECK_FALSE(Jobserver::open(fifo_at(path), &problem));
    CHECK(problem == "make's jobserver (MAKEFLAGS --jobserver-auth=fifo:" + path + ") cannot be used (cannot open " +
                         path + ": No such file or directory)");
    CHECK_FALSE(Jobserver::open(fifo_at("/dev/null"), &problem));
    CHECK(problem.ends_with("cannot be used (/dev/null is not a fifo)"));
}

/// Why Jobserver::open refuses `auth`, as the user reads it.
std::string refusal(const JobserverAuth& auth) {
    std::string problem;
    CHECK_FALSE(Jobserver::open(auth, &problem));
    return problem;
}

TEST_CASE("descriptors make did not pass down mean no jobserver, and say why") {
    int r = -1;
    int w = -1;
    {
        auto p = make_pipe();
        r = p.read.get();
        w = p.write.get();
    }
    const std::string hint = ": prefix the recipe with '+' so that make passes its jobserver on)";
    CHECK(refusal(fds(r, w)) == fmt::format("make's jobserver (MAKEFLAGS --jobserver-auth={},{}) cannot be used "
                                            "(descriptor {} is not open{}", r, w, r, hint));
    auto null = open_dev_null();
    CHECK(refusal(fds(null.get(), null.get())).ends_with(fmt::format("(descriptor {} is not a pipe{}", null.get(), hint)));
    auto a = make_pipe();
    auto b = make_pipe();
    CHECK(refusal(fds(a.read.get(), b.write.get()))
              .ends_with(fmt::format("(descriptors {} and {} are not the ends of one pipe{}", a.read.get(),
                                     b.write.get(), hint)));
    CHECK(refusal(fds(a.write.get(), a.read.get()))
              .ends_with(fmt::format("(descriptor {} is not open for writing{}", a.read.get(), hint)));
    CHECK(refusal(fds(a.read.get(), null.get())).ends_with(fmt::format("(descriptor {} is not a pipe{}", null.get(), hint)));
}

TEST_CASE("from_environment reads MAKEFLAGS") {
    auto p = token_pipe("+");
    std::string flags = " -j2 --jobserver-auth=" + std::to_string(p.read.get()) + "," + std::to_string(p.write.get());
    ::setenv("MAKEFLAGS", flags.c_str(), 1);
    auto js = Jobserver::from_environment();
    ::unsetenv("MAKEFLAGS");
    REQUIRE(js);
    CHECK(js->try_acquire());
    CHECK_FALSE(Jobserver::from_environment());
}

TEST_CASE("from_environment has nothing to say when MAKEFLAGS names no jobserver") {
    for (const char* flags : {"", " -j4", "ks -j", "-j1 --jobserver-auth=97,98", "-j4 --jobserver-auth=-2,-2",
                              "-j4 -- X=--jobserver-auth=97,98"}) {
        ::setenv("MAKEFLAGS", flags, 1);
        std::string problem;
        CHECK_FALSE(Jobserver::from_environment(&problem));
        CHECK_MESSAGE(problem.empty(), flags);
    }
    ::unsetenv("MAKEFLAGS");
    std::string problem;
    CHECK_FALSE(Jobserver::from_environment(&problem));
    CHECK(problem.empty());
    ::setenv("MAKEFLAGS", "-j4 --jobserver-auth=97,98", 1);
    CHECK_FALSE(Jobserver::from_environment(&problem));
    ::unsetenv("MAKEFLAGS");
    CHECK(problem.starts_with("make's jobserver (MAKEFLAGS --jobserver-auth=97,98) cannot be used (descriptor 97 is"));
}
