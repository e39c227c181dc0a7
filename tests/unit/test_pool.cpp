// The library against Python's own Pool tests: real forked workers.
#include <doctest/doctest.h>

#include "ppool/pool.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>
#include <csignal>
#include <thread>
#include <unistd.h>

using namespace ppool;

namespace {

std::vector<std::string> range(int n) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) out.push_back(std::to_string(i));
    return out;
}

std::vector<std::string> squares(int n) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) out.push_back(std::to_string(i * i));
    return out;
}

PoolOptions with_processes(int n) {
    PoolOptions o;
    o.processes = n;
    return o;
}

std::vector<std::string> lines_of(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

struct TempFile {
    std::string path;
    TempFile() {
        char name[] = "/tmp/ppool-unit-XXXXXX";
        int fd = mkstemp(name);
        close(fd);
        path = name;
    }
    ~TempFile() { std::remove(path.c_str()); }
};

}  // namespace

TEST_CASE("map equals the sequential map") {
    Pool pool(with_processes(2));
    CHECK(pool.map("test_square", range(10)) == squares(10));
    CHECK(pool.map("test_square", range(100), 1) == squares(100));
    CHECK(pool.map("test_square", range(1000), 37) == squares(1000));
    CHECK(pool.map_async("test_square", range(50)).get() == squares(50));
}

TEST_CASE("imap keeps order; imap_unordered yields the same multiset") {
    Pool pool(with_processes(3));
    // Early items are the slowest, so completion order is not input order.
    std::vector<std::string> items{"300", "200", "100", "0", "0", "0"};
    std::vector<std::string> ordered;
    for (const auto& value : pool.imap("test_sleep_ms", items)) ordered.push_back(value);
    CHECK(ordered == items);
    std::vector<std::string> unordered;
    auto it = pool.imap_unordered("test_sleep_ms", items);
    while (auto value = it.next()) unordered.push_back(*value);
    CHECK(unordered != items);
    std::sort(unordered.begin(), unordered.end());
    auto expected = items;
    std::sort(expected.begin(), expected.end());
    CHECK(unordered == expected);
    CHECK(pool.imap("test_square", range(100), 7).next() == std::optional<std::string>("0"));
}

TEST_CASE("empty input") {
    Pool pool(with_processes(2));
    CHECK(pool.map("test_square", {}).empty());
    CHECK_FALSE(pool.imap("test_square", std::vector<std::string>{}).next().has_value());
    CHECK_FALSE(pool.imap_unordered("test_square", std::vector<std::string>{}).next().has_value());
}

TEST_CASE("apply and AsyncResult") {
    Pool pool(with_processes(2));
    CHECK(pool.apply("test_square", "12") == "144");
    auto slow = pool.apply_async("test_sleep_ms", "1000");
    CHECK_FALSE(slow.ready());
    CHECK_THROWS_AS(slow.get(0.05), TimeoutError);
    CHECK_THROWS_AS(slow.successful(), Error);
    slow.wait();
    CHECK(slow.ready());
    CHECK(slow.successful());
    CHECK(slow.get() == "1000");
    auto it = pool.imap("test_sleep_ms", std::vector<std::string>{"1000"});
    CHECK_THROWS_AS(it.next(0.05), TimeoutError);
    CHECK(it.next() == std::optional<std::string>("1000"));
}

TEST_CASE("a task's exception reaches the caller with its message") {
    Pool pool(with_processes(2));
    auto r = pool.apply_async("test_fail", "7");
    r.wait();
    CHECK_FALSE(r.successful());
    CHECK_THROWS_WITH_AS(r.get(), "bad item 7", TaskError);
    CHECK_THROWS_WITH_AS(pool.map("test_fail", range(3)), "bad item 0", TaskError);
    // The pool is still good after failures.
    CHECK(pool.apply("test_square", "3") == "9");
    CHECK_THROWS_AS(pool.apply("no_such_task", "1"), UsageError);
}

TEST_CASE("a task timeout kills and replaces the worker") {
    PoolOptions o = with_processes(1);
    o.task_timeout = 0.3;
    Pool pool(o);
    auto before = pool.apply("test_pid", "");
    try {
        pool.apply("test_sleep_ms", "60000");
        FAIL("no timeout");
    } catch (const TaskError& e) {
        CHECK(e.result().status == Status::timeout);
        CHECK(e.result().timed_out());
    }
    auto after = pool.apply("test_pid", "");
    CHECK(after != before);
}

TEST_CASE("terminate while tasks run returns promptly") {
    Pool pool(with_processes(2));
    auto a = pool.apply_async("test_sleep_ms", "60000");
    auto b = pool.apply_async("test_sleep_ms", "60000");
    CHECK_THROWS_AS(a.get(0.2), TimeoutError);
    auto start = std::chrono::steady_clock::now();
    pool.terminate();
    pool.join();
    // Generous: promptly means well before the 60 s tasks would end.
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
    CHECK(a.ready());
    CHECK_THROWS_AS(a.get(), Error);
    CHECK_THROWS_AS(pool.apply_async("test_square", "1"), Error);
}

TEST_CASE("close and join finish the queued work") {
    Pool pool(with_processes(2));
    auto r = pool.map_async("test_square", range(20), 3);
    pool.close();
    CHECK_THROWS_AS(pool.apply_async("test_square", "1"), Error);
    pool.join();
    CHECK(r.ready());
    CHECK(r.get() == squares(20));
}

TEST_CASE("the initializer runs exactly once per worker") {
    TempFile log;
    PoolOptions o = with_processes(2);
    o.initializer = "test_record_init";
    o.initargs = log.path;
    {
        Pool pool(o);
        auto pids = pool.map("test_pid", range(40), 1);
        std::set<std::string> distinct(pids.begin(), pids.end());
        CHECK(distinct.size() <= 2);
        pool.close();
        pool.join();
    }
    auto inits = lines_of(log.path);
    CHECK(inits.size() == 2);
    CHECK(std::set<std::string>(inits.begin(), inits.end()).size() == 2);
}

TEST_CASE("maxtasksperchild recycles workers") {
    TempFile log;
    PoolOptions o = with_processes(2);
    o.maxtasksperchild = 3;
    o.initializer = "test_record_init";
    o.initargs = log.path;
    std::vector<std::string> pids;
    {
        Pool pool(o);
        pids = pool.map("test_pid", range(30), 5);
        pool.close();
        pool.join();
    }
    std::map<std::string, int> per_worker;
    for (const auto& pid : pids) ++per_worker[pid];
    CHECK(per_worker.size() >= 10);
    for (const auto& [pid, count] : per_worker) CHECK(count <= 3);
    // Every worker that ran a task ran the initializer first, once.
    auto inits = lines_of(log.path);
    std::set<std::string> initialised(inits.begin(), inits.end());
    CHECK(initialised.size() == inits.size());
    for (const auto& [pid, count] : per_worker) CHECK(initialised.count(pid) == 1);
}

TEST_CASE("a failing initializer stops the pool instead of respawning it") {
    PoolOptions o = with_processes(2);
    o.initializer = "test_fail";
    o.initargs = "init";
    Pool pool(o);
    CHECK_THROWS_WITH_AS(pool.map("test_square", range(10)), doctest::Contains("bad item init"), InitializerError);
}

TEST_CASE("bad options are usage errors") {
    PoolOptions o;
    o.processes = -1;
    CHECK_THROWS_AS(Pool{o}, UsageError);
    PoolOptions t;
    t.initializer = "no_such_initializer";
    CHECK_THROWS_AS(Pool{t}, UsageError);
    PoolOptions pace;
    pace.delay_s = -1;
    CHECK_THROWS_AS(Pool{pace}, UsageError);
    PoolOptions halt;
    halt.halt = HaltRule{HaltRule::When::now, HaltRule::On::fail, 0, false};
    CHECK_THROWS_AS(Pool{halt}, UsageError);
    CHECK(Pool::default_chunksize(0, 2) == 1);
    CHECK(Pool::default_chunksize(100, 2) == 13);
    CHECK(Pool::default_chunksize(8, 2) == 1);
    CHECK(Pool::default_chunksize(9, 2) == 2);
}

namespace {

/// Items "1", "2", ... one per read, then an error: after `good` items, or at every read from then on.
class ThrowingSource final : public ItemSource {
public:
    explicit ThrowingSource(int good) : m_good(good) {}
    int fd() const override { return -1; }
    bool read_more(std::vector<std::string>& out) override {
        if (m_next >= m_good) {
            ++throws;
            throw std::runtime_error("the source broke");
        }
        out.push_back(std::to_string(++m_next));
        return true;
    }
    inline static int throws = 0;

private:
    int m_good;
    int m_next = 0;
};

}  // namespace

TEST_CASE("every get() of an AsyncResult returns the same value or throws the same error") {
    Pool pool(with_processes(2));
    auto one = pool.apply_async("test_square", "7");
    CHECK(one.get() == "49");
    CHECK(one.get() == "49");
    auto copy = one;
    CHECK(copy.get() == "49");
    auto all = pool.map_async("test_square", range(5));
    CHECK(all.get() == squares(5));
    CHECK(all.get() == squares(5));
    auto failed = pool.apply_async("test_fail", "x");
    for (int i = 0; i < 2; ++i) {
        try {
            failed.get();
            FAIL("no error");
        } catch (const TaskError& e) {
            CHECK(std::string(e.what()) == "bad item x");
        }
    }
}

TEST_CASE("results before a failing input come first, then its error") {
    Pool pool(with_processes(2));
    auto results = pool.imap("test_square", std::make_unique<ThrowingSource>(3), 1);
    std::vector<std::string> got;
    try {
        while (auto v = results.next()) got.push_back(*v);
        FAIL("no error");
    } catch (const std::runtime_error& e) {
        CHECK(std::string(e.what()) == "the source broke");
    }
    CHECK(got == std::vector<std::string>{"1", "4", "9"});
}

TEST_CASE("a failed input ends its own job only") {
    Pool pool(with_processes(2));
    ThrowingSource::throws = 0;
    auto broken = pool.imap("test_square", std::make_unique<ThrowingSource>(0), 1);
    CHECK_THROWS_AS(broken.next(), std::runtime_error);
    // Not read again once it failed, and the pool goes on.
    CHECK(pool.apply("test_square", "3") == "9");
    CHECK(pool.map("test_square", range(4)) == squares(4));
    CHECK(ThrowingSource::throws == 1);
    CHECK_THROWS_WITH_AS(pool.map("test_square", std::make_unique<ThrowingSource>(2)), "the source broke",
                         std::runtime_error);
}

TEST_CASE("callbacks run once, as soon as the result is ready, while the program waits on other work") {
    Pool pool(with_processes(2));
    std::vector<std::string> seen;
    std::vector<std::string> errors;
    auto quick = pool.apply_async(
        "test_square", "3", [&](const std::string& v) { seen.push_back("apply " + v); },
        [&](const std::exception& e) { errors.push_back(e.what()); });
    auto listed = pool.map_async(
        "test_square", range(4), 0,
        [&](const std::vector<std::string>& v) { seen.push_back("map " + std::to_string(v.size())); });
    auto failing = pool.apply_async(
        "test_fail", "z", [&](const std::string&) { seen.push_back("wrong"); },
        [&](const std::exception& e) {
            errors.push_back(e.what());
            CHECK(dynamic_cast<const TaskError*>(&e) != nullptr);
        });
    // Waiting on something else runs them (bounded: a busy machine may take a while).
    for (int i = 0; i < 500 && (seen.size() < 2 || errors.empty()); ++i) CHECK(pool.apply("test_sleep_ms", "10") == "10");
    std::sort(seen.begin(), seen.end());
    CHECK(seen == std::vector<std::string>{"apply 9", "map 4"});
    CHECK(errors == std::vector<std::string>{"bad item z"});
    // The results stay: get() still has them, and nothing runs twice.
    CHECK(quick.get() == "9");
    CHECK(listed.get() == squares(4));
    CHECK_THROWS_AS(failing.get(), TaskError);
    pool.map("test_square", range(3));
    CHECK(seen.size() == 2);
}

TEST_CASE("a callback may submit work but not wait on the pool") {
    Pool pool(with_processes(2));
    std::optional<AsyncResult<std::string>> follow_up;
    auto first = pool.apply_async("test_square", "2", [&](const std::string& v) {
        follow_up = pool.apply_async("test_square", v);
    });
    CHECK(first.get() == "4");
    REQUIRE(follow_up);
    CHECK(follow_up->get() == "16");
    auto slow = pool.apply_async("test_sleep_ms", "2000");
    auto waits = pool.apply_async("test_square", "1", [&](const std::string&) { slow.get(); });
    CHECK_THROWS_WITH_AS(waits.wait(), "a callback cannot wait on the pool; it may submit more work", Error);
}

TEST_CASE("map takes any range of strings, and an ItemSource") {
    Pool pool(with_processes(2));
    std::vector<std::string_view> views{"1", "2", "3"};
    CHECK(pool.map("test_square", views) == std::vector<std::string>{"1", "4", "9"});
    auto generated = std::views::iota(0, 6) | std::views::transform([](int i) { return std::to_string(i); });
    CHECK(pool.map("test_square", generated, 2) == squares(6));
    CHECK(pool.map("test_square", items_from(range(10))) == squares(10));
    auto async = pool.map_async("test_square", items_from(range(3)), 2);
    CHECK(async.get() == squares(3));
}

TEST_CASE("a TaskError keeps the message and the type of the task's exception") {
    Pool pool(with_processes(1));
    try {
        pool.apply("test_out_of_range", "x");
        FAIL("no error");
    } catch (const TaskError& e) {
        CHECK(std::string(e.what()) == "no such index: x");
        CHECK(e.type_name() == "std::out_of_range");
        CHECK(e.result().status == Status::error);
    }
    try {
        pool.apply("test_fail", "y");
        FAIL("no error");
    } catch (const TaskError& e) {
        CHECK(e.type_name() == "std::runtime_error");
    }
    auto ok = pool.apply_async("test_square", "2");
    CHECK(ok.get() == "4");
}

TEST_CASE("terminate stops a command run by a worker that ran a registered task before") {
    // Such a worker has a monitor thread for its registered tasks: the
    // command must still be stopped with its group, not left behind.
    if (!TaskRegistry::global().find("test_cmd_pidfile"))
        TaskRegistry::global().add_command("test_cmd_pidfile", "writes its pid to the item's file, sleeps",
                                           CommandLine{{"sh", "-c", "echo $$ > \"$1.tmp\"; mv \"$1.tmp\" \"$1\"; exec sleep 300", "sh"}});
    TempFile pidfile;
    std::remove(pidfile.path.c_str());
    Pool pool(with_processes(1));
    CHECK(pool.apply("test_square", "5") == "25");
    auto running = pool.apply_async("test_cmd_pidfile", pidfile.path);
    pid_t pid = 0;
    for (int i = 0; i < 3000 && pid == 0; ++i) {
        CHECK_THROWS_AS(running.get(0.01), TimeoutError);
        std::ifstream(pidfile.path) >> pid;
    }
    REQUIRE(pid > 0);
    pool.terminate();
    bool gone = false;
    for (int i = 0; i < 3000 && !gone; ++i) {
        gone = ::kill(pid, 0) != 0;
        if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!gone) ::kill(pid, SIGKILL);
    CHECK(gone);
}

TEST_CASE("on_output gets a command's output as it runs, and the result none of it") {
    if (!TaskRegistry::global().find("test_cmd_two_streams"))
        TaskRegistry::global().add_command("test_cmd_two_streams", "prints to stdout and stderr",
                                           CommandLine{{"sh", "-c", "echo out $1; echo err $1 >&2; printf end", "sh"}});
    auto options = with_processes(2);
    std::map<std::pair<std::uint64_t, int>, std::string> pieces;
    options.on_output = [&](const OutputPiece& piece) {
        CHECK(piece.input == (piece.seq == 1 ? "a" : "b"));
        pieces[{piece.seq, piece.stream}] += piece.data;
    };
    Pool pool(options);
    std::vector<std::string> items{"a", "b"};
    auto results = pool.imap("test_cmd_two_streams", items);
    while (auto r = results.next_result()) {
        CHECK(r->ok());
        CHECK(r->output.empty());
        CHECK(r->stderr_text.empty());
    }
    CHECK(pieces[{1, 1}] == "out a\nend");
    CHECK(pieces[{1, 2}] == "err a\n");
    CHECK(pieces[{2, 1}] == "out b\nend");
    CHECK(pieces[{2, 2}] == "err b\n");
}

TEST_CASE("a halt rule ends imap early with the results before it") {
    PoolOptions o;
    o.processes = 1;
    o.halt = HaltRule{HaltRule::When::now, HaltRule::On::success, 3, false};
    Pool pool(o);
    auto it = pool.imap("test_square", range(100));
    std::vector<std::string> got;
    while (auto v = it.next()) got.push_back(*v);
    CHECK(got == std::vector<std::string>{"0", "1", "4"});
}

TEST_CASE("a watched descriptor is served between turns of the pool") {
    Pool pool(with_processes(2));
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    std::vector<std::string> got;
    std::vector<AsyncResult<std::string>> pending;
    // Each byte on the pipe submits a task from inside the loop; a result ends a job there too.
    pool.watch(fds[0], [&] {
        char c = 0;
        REQUIRE(::read(fds[0], &c, 1) == 1);
        if (c == 'q') return pool.unwatch(fds[0]);
        pending.push_back(pool.apply_async("upper", std::string(1, c),
                                           [&](const std::string& value) { got.push_back(value); }));
    });
    REQUIRE(::write(fds[1], "abq", 3) == 3);
    CHECK(pool.run_until([&] { return got.size() == 2; }, 30.0));
    std::sort(got.begin(), got.end());
    CHECK(got == std::vector<std::string>{"A", "B"});
    // The q removed the watch: with no work and nothing watched, waiting could never end.
    CHECK_THROWS_AS(pool.run_until([] { return false; }, 30.0), Error);
    // A watch keeps the pool waiting until the deadline.
    pool.watch(fds[0], [] {});
    CHECK_FALSE(pool.run_until([] { return false; }, 0.05));
    pool.unwatch(fds[0]);
    ::close(fds[0]);
    ::close(fds[1]);
}

TEST_CASE("a watch may not wait on the pool") {
    Pool pool(with_processes(1));
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pool.watch(fds[0], [&] { pool.apply("identity", "x"); });
    REQUIRE(::write(fds[1], "x", 1) == 1);
    CHECK_THROWS_AS(pool.run_until([] { return false; }, 30.0), Error);
    pool.unwatch(fds[0]);
    ::close(fds[0]);
    ::close(fds[1]);
}

TEST_CASE("apply_async with a whole-result callback gets failures as data") {
    Pool pool(with_processes(2));
    std::vector<TaskResult> results;
    pool.apply_async("len", "abc", [&](const TaskResult& r) { results.push_back(r); });
    pool.apply_async("sha256sum", "/nonexistent/file", [&](const TaskResult& r) { results.push_back(r); });
    CHECK(pool.run_until([&] { return results.size() == 2; }, 30.0));
    std::sort(results.begin(), results.end(), [](const auto& a, const auto& b) { return a.input < b.input; });
    CHECK(results[0].input == "/nonexistent/file");
    CHECK_FALSE(results[0].ok());
    CHECK(results[0].describe_failure().find("No such file") != std::string::npos);
    CHECK(results[1].ok());
    CHECK(results[1].output == "3");
}
