// Typed tasks: values in, values out, through real forked workers.
#include <doctest/doctest.h>

#include "ppool/codec.hpp"
#include "ppool/plugin.hpp"
#include "ppool/typed.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <numeric>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

using namespace std::string_literals;

namespace typed_test {

struct Stats {
    double mean = 0;
    std::vector<double> values;
    std::string label;
    bool operator==(const Stats&) const = default;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Stats, mean, values, label)

int twice(int x) { return 2 * x; }

// Registered at namespace scope: before any test's Pool forks its workers.
const auto square = ppool::typed_task("typed_square", "squares an integer", [](long x) { return x * x; });
const auto add = ppool::typed_task("typed_add", "adds two integers", [](int a, int b) { return a + b; });
const auto echo = ppool::typed_task("typed_echo", "the string itself", [](const std::string& s) { return s; });
const auto length = ppool::typed_task("typed_length", "the byte length", [](std::string_view s) { return s.size(); });
const auto summarize = ppool::typed_task("typed_summarize", "mean of the values", [](std::vector<double> v) {
    double sum = std::accumulate(v.begin(), v.end(), 0.0);
    return Stats{v.empty() ? 0 : sum / static_cast<double>(v.size()), v, "n=" + std::to_string(v.size())};
});
const auto fail = ppool::typed_task("typed_fail", "throws", [](int x) -> int {
    throw std::out_of_range("no luck with " + std::to_string(x));
});
const auto sleep_ms = ppool::typed_task("typed_sleep_ms", "sleeps, returns its argument", [](int ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return ms;
});
const auto sorted = ppool::typed_task("typed_sorted", "sorts in place", [](std::vector<int>& v) {
    std::sort(v.begin(), v.end());
    return v;
});
const auto scale = ppool::typed_task<double(double, int)>("typed_scale", "a generic lambda with a signature given",
                                                         [](auto x, auto k) { return x * k; });
const auto doubled = ppool::typed_task("typed_twice", "a function", twice);
using Nested = std::map<std::string, std::vector<std::optional<std::pair<int, std::string>>>>;
const auto nested = ppool::typed_task("typed_nested", "returns its argument", [](Nested n) { return n; });
const auto answer = ppool::typed_task("typed_answer", "no argument", [] { return 42; });
const auto echo_nested = ppool::typed_task("typed_echo_nested", "returns its argument",
                                           [](std::vector<std::vector<std::string>> v) { return v; });

/// What a typed call accepts, checked without compiling a failing call.
template <class Task, class... V>
concept can_apply = requires(ppool::Pool& pool, const Task& task, V... values) { ppool::apply(pool, task, values...); };
template <class Task, class Items>
concept can_map = requires(ppool::Pool& pool, const Task& task, Items items) { ppool::map(pool, task, items); };
template <class Task, class Items>
concept can_starmap = requires(ppool::Pool& pool, const Task& task, Items items) { ppool::starmap(pool, task, items); };

ppool::PoolOptions with_processes(int n) {
    ppool::PoolOptions o;
    o.processes = n;
    return o;
}

}  // namespace typed_test

using namespace typed_test;
using ppool::CodecError;
using ppool::decode;
using ppool::encode;

// What a typed call accepts: compile-time checks.
static_assert(std::is_same_v<decltype(square), const ppool::TypedTask<long(long)>>);
static_assert(std::is_same_v<decltype(length), const ppool::TypedTask<std::size_t(std::string)>>);
static_assert(std::is_same_v<decltype(sorted), const ppool::TypedTask<std::vector<int>(std::vector<int>)>>);
static_assert(can_apply<decltype(square), int> && can_apply<decltype(square), long>);
static_assert(!can_apply<decltype(square), std::string> && !can_apply<decltype(square), double>);
static_assert(!can_apply<decltype(square)> && !can_apply<decltype(square), int, int>);
static_assert(can_apply<decltype(add), int, short> && !can_apply<decltype(add), int, long>);
static_assert(can_apply<decltype(echo), const char*> && !can_apply<decltype(echo), int>);
static_assert(can_apply<decltype(scale), int, int>);  // an integer may go to a double
static_assert(!can_apply<decltype(doubled), bool>);
static_assert(can_map<decltype(square), std::vector<int>> && !can_map<decltype(square), std::vector<std::string>>);
static_assert(!can_map<decltype(square), std::vector<double>> && !can_map<decltype(add), std::vector<int>>);
static_assert(can_starmap<decltype(add), std::vector<std::tuple<int, int>>>);
static_assert(can_starmap<decltype(add), std::vector<std::pair<short, int>>>);
static_assert(!can_starmap<decltype(add), std::vector<std::tuple<int>>>);
static_assert(!can_starmap<decltype(add), std::vector<std::tuple<int, std::string>>>);
static_assert(!can_starmap<decltype(add), std::vector<int>>);

TEST_CASE("typed apply, apply_async, map and map_async give values") {
    ppool::Pool pool(with_processes(2));
    CHECK(ppool::apply(pool, square, 12) == 144);
    CHECK(ppool::apply(pool, add, 2, 3) == 5);
    CHECK(ppool::apply(pool, answer) == 42);
    CHECK(ppool::apply(pool, doubled, 21) == 42);
    CHECK(ppool::apply(pool, scale, 1.5, 3) == 4.5);
    CHECK(ppool::apply(pool, sorted, std::vector<int>{3, 1, 2}) == std::vector<int>{1, 2, 3});
    CHECK(ppool::apply(pool, length, "a\0b"s) == 3u);
    Stats stats = ppool::apply(pool, summarize, std::vector<double>{1, 2, 6});
    CHECK(stats == Stats{3, {1, 2, 6}, "n=3"});
    Nested n{{"k\n", {std::nullopt, std::pair<int, std::string>{1, "\0\n"s}}}, {"", {}}};
    CHECK(ppool::apply(pool, nested, n) == n);

    std::vector<long> expected;
    for (long i = 0; i < 100; ++i) expected.push_back(i * i);
    std::vector<int> items(100);
    std::iota(items.begin(), items.end(), 0);
    CHECK(ppool::map(pool, square, items) == expected);
    CHECK(ppool::map(pool, square, items, 7) == expected);
    CHECK(ppool::map(pool, square, {1, 2, 3}) == std::vector<long>{1, 4, 9});
    CHECK(ppool::map(pool, square, std::views::iota(0, 100)) == expected);
    CHECK(ppool::map(pool, square, std::vector<int>{}).empty());
    CHECK(ppool::map_async(pool, square, items).get(30.0) == expected);

    auto later = ppool::apply_async(pool, sleep_ms, 300);
    CHECK_FALSE(later.ready());
    CHECK_THROWS_AS(later.get(0.05), ppool::TimeoutError);
    CHECK_THROWS_AS(later.successful(), ppool::Error);
    later.wait();
    CHECK(later.ready());
    CHECK(later.successful());
    CHECK(later.get() == 300);
}

TEST_CASE("strings with NUL and newline bytes survive the pool") {
    std::vector<std::string> items{"a\0b"s, "line\nline\n"s, ""s, "\n"s, "\0"s, "\r\n\xff"s};
    ppool::Pool pool(with_processes(2));
    // The string layer underneath carries library items as they are.
    CHECK(pool.map("identity", items) == items);
    CHECK(pool.apply("identity", items[1]) == items[1]);
    std::vector<std::string> streamed;
    for (const auto& s : pool.imap("identity", items)) streamed.push_back(s);
    CHECK(streamed == items);
    // And so does the typed layer.
    CHECK(ppool::map(pool, echo, items) == items);
    CHECK(ppool::map(pool, length, items) == std::vector<std::size_t>{3, 10, 0, 1, 1, 3});
    std::vector<std::string> typed_streamed;
    for (const auto& s : ppool::imap(pool, echo, items)) typed_streamed.push_back(s);
    CHECK(typed_streamed == items);
    auto inside = std::vector<std::vector<std::string>>{items, {}};
    CHECK(ppool::apply(pool, echo_nested, inside) == inside);
}

TEST_CASE("typed imap keeps order; imap_unordered yields the same values") {
    ppool::Pool pool(with_processes(3));
    // The early items are the slowest, so completion order is not input order.
    std::vector<int> items{300, 200, 100, 0, 0, 0};
    std::vector<int> ordered;
    for (int v : ppool::imap(pool, sleep_ms, items)) ordered.push_back(v);
    CHECK(ordered == items);

    std::vector<int> unordered;
    auto it = ppool::imap_unordered(pool, sleep_ms, items);
    while (auto v = it.next(10.0)) unordered.push_back(*v);
    CHECK(unordered != items);
    std::sort(unordered.begin(), unordered.end());
    auto expected = items;
    std::sort(expected.begin(), expected.end());
    CHECK(unordered == expected);

    // A long range is read as the pool takes items, in any chunk size.
    long total = 0;
    for (long v : ppool::imap(pool, square, std::views::iota(1, 2001), 50)) total += v;
    CHECK(total == 2000L * 2001 * 4001 / 6);
    std::vector<long> small;
    for (long v : ppool::imap_unordered(pool, square, {3, 4})) small.push_back(v);
    std::sort(small.begin(), small.end());
    CHECK(small == std::vector<long>{9, 16});
    auto slow = ppool::imap(pool, sleep_ms, std::vector<int>{500});
    CHECK_THROWS_AS(slow.next(0.05), ppool::TimeoutError);
    CHECK(slow.next() == 500);
    CHECK_FALSE(slow.next().has_value());
}

TEST_CASE("typed starmap and starmap_async call with tuples of arguments") {
    ppool::Pool pool(with_processes(2));
    CHECK(ppool::starmap(pool, add, std::vector<std::tuple<int, int>>{{1, 2}, {3, 4}, {-5, 5}}) ==
          std::vector<int>{3, 7, 0});
    CHECK(ppool::starmap(pool, add, {{10, 20}, {30, 40}}) == std::vector<int>{30, 70});
    CHECK(ppool::starmap(pool, add, std::vector<std::pair<short, int>>{{1, 1}}) == std::vector<int>{2});
    CHECK(ppool::starmap(pool, scale, std::vector<std::tuple<double, int>>{{0.5, 4}, {2.0, -1}}) ==
          std::vector<double>{2.0, -2.0});
    CHECK(ppool::starmap(pool, square, std::vector<std::tuple<int>>{{5}, {6}}) == std::vector<long>{25, 36});
    CHECK(ppool::starmap(pool, add, std::vector<std::tuple<int, int>>{}).empty());
    std::vector<std::tuple<int, int>> pairs;
    std::vector<int> sums;
    for (int i = 0; i < 200; ++i) {
        pairs.emplace_back(i, 2 * i);
        sums.push_back(3 * i);
    }
    auto async = ppool::starmap_async(pool, add, pairs, 9);
    async.wait(30.0);
    CHECK(async.ready());
    CHECK(async.successful());
    CHECK(async.get() == sums);
}

TEST_CASE("a typed task's exception is a TaskError with its message") {
    ppool::Pool pool(with_processes(2));
    try {
        ppool::apply(pool, fail, 7);
        FAIL("no exception");
    } catch (const ppool::TaskError& e) {
        CHECK(std::string(e.what()) == "no luck with 7");
        CHECK(e.result().status == ppool::Status::error);
        CHECK(e.result().error == "no luck with 7");
        CHECK(e.result().input == "7");
    }
    CHECK_THROWS_WITH_AS(ppool::map(pool, fail, {1, 2}), "no luck with 1", ppool::TaskError);
    auto r = ppool::apply_async(pool, fail, 3);
    r.wait();
    CHECK_FALSE(r.successful());
    CHECK_THROWS_WITH_AS(r.get(), "no luck with 3", ppool::TaskError);
    auto it = ppool::imap(pool, fail, {4});
    CHECK_THROWS_WITH_AS(it.next(), "no luck with 4", ppool::TaskError);
    CHECK_THROWS_WITH_AS(ppool::starmap(pool, fail, std::vector<std::tuple<int>>{{5}}), "no luck with 5",
                         ppool::TaskError);
    // The pool is still good.
    CHECK(ppool::apply(pool, square, 3) == 9);
}

TEST_CASE("an item that does not decode fails with a clear TaskError") {
    ppool::Pool pool(with_processes(2));
    // A string caller of a typed task.
    CHECK_THROWS_WITH_AS(pool.apply("typed_square", "abc"),
                         "cannot decode the argument of task 'typed_square': expected an integer from "
                         "-9223372036854775808 to 9223372036854775807, found 'abc'",
                         ppool::TaskError);
    CHECK_THROWS_WITH_AS(pool.apply("typed_add", "1 2"),
                         doctest::Contains("cannot decode the arguments of task 'typed_add': not a CBOR document"),
                         ppool::TaskError);
    // A typed handle whose types are not the task's.
    ppool::TypedTask<long(std::string)> wrong_argument{"typed_square"};
    try {
        ppool::apply(pool, wrong_argument, "twelve");
        FAIL("no exception");
    } catch (const ppool::TaskError& e) {
        CHECK(std::string(e.what()) == "cannot decode the argument of task 'typed_square': expected an integer from "
                                       "-9223372036854775808 to 9223372036854775807, found 'twelve'");
        CHECK(e.result().status == ppool::Status::error);
    }
    ppool::TypedTask<int(std::tuple<int, std::string>)> wrong_tuple{"typed_add"};
    CHECK_THROWS_WITH_AS(ppool::apply(pool, wrong_tuple, std::tuple<int, std::string>{1, "x"}),
                         "cannot decode the arguments of task 'typed_add': at [1]: expected an integer from "
                         "-2147483648 to 2147483647, found a string",
                         ppool::TaskError);
    // A result the caller cannot decode.
    ppool::TypedTask<bool(std::string)> upper_as_bool{"upper"};
    try {
        ppool::apply(pool, upper_as_bool, "yes");
        FAIL("no exception");
    } catch (const ppool::TaskError& e) {
        CHECK(std::string(e.what()) == "cannot decode the result of task 'upper': expected true or false, found 'YES'");
        CHECK(e.result().output == "YES");
        CHECK(e.result().status == ppool::Status::error);
    }
    ppool::TypedTask<bool(std::string)> lower_as_bool{"lower"};
    CHECK(ppool::map(pool, lower_as_bool, {"TRUE", "False"}) == std::vector<bool>{true, false});
    try {
        ppool::map(pool, lower_as_bool, {"TRUE", "No"});
        FAIL("no exception");
    } catch (const ppool::TaskError& e) {
        CHECK(std::string(e.what()) == "cannot decode the result of task 'lower': expected true or false, found 'no'");
        CHECK(e.result().seq == 2);
    }
    auto it = ppool::imap(pool, upper_as_bool, {"x"});
    CHECK_THROWS_WITH_AS(it.next(), doctest::Contains("cannot decode the result of task 'upper'"), ppool::TaskError);
}

TEST_CASE("typed and string callers meet: numbers and strings are text") {
    ppool::Pool pool(with_processes(2));
    CHECK(pool.map("typed_square", {"2", "-3"}) == std::vector<std::string>{"4", "9"});
    CHECK(pool.apply("typed_echo", "a\0b"s) == "a\0b"s);
    ppool::TypedTask<std::size_t(std::string)> len{"len"};
    CHECK(ppool::map(pool, len, {"", "abc", "\0\n"s}) == std::vector<std::size_t>{0, 3, 2});
}

TEST_CASE("typed tasks register in any registry, a plugin's included") {
    struct Captured {
        std::string name, description;
        ppool::TaskFunction function;
    } captured;
    ppool::PluginRegistry registry;
    registry.host = &captured;
    registry.add_task = [](void* host, const char* name, const char* description, ppool::TaskFunction function) {
        auto& c = *static_cast<Captured*>(host);
        c.name = name;
        c.description = description;
        c.function = std::move(function);
    };
    auto mul = ppool::typed_task(registry, "plugin_mul", "multiplies", [](int a, int b) { return a * b; });
    CHECK(mul.name() == "plugin_mul");
    CHECK(captured.name == "plugin_mul");
    CHECK(captured.description == "multiplies");
    CHECK(decode<int>(captured.function(encode(std::tuple<int, int>{6, 7}))) == 42);
    CHECK_THROWS_WITH_AS(captured.function("6 7"), doctest::Contains("cannot decode the arguments of task 'plugin_mul'"),
                         CodecError);
}

TEST_CASE("a typed task name is taken once") {
    CHECK_THROWS_AS(ppool::typed_task("typed_square", "again", [](int x) { return x; }), ppool::UsageError);
    CHECK_THROWS_AS(ppool::typed_task("", "no name", [](int x) { return x; }), ppool::UsageError);
}
