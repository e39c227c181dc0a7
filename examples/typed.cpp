// A program with typed tasks: C++ values in and out of the workers, no
// strings made by hand. Run: typed_example [N]
#include <ppool/typed.hpp>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

// A result type of the program's own, carried by nlohmann/json's conversions.
struct Stats {
    std::size_t count = 0;
    double mean = 0;
    double max = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Stats, count, mean, max)

// Registered at namespace scope, before main: every worker has them.
const auto square = ppool::typed_task("square", "squares an integer", [](long x) { return x * x; });
const auto add = ppool::typed_task("add", "adds two integers", [](long a, long b) { return a + b; });
const auto summarize = ppool::typed_task("summarize", "count, mean and maximum", [](const std::vector<double>& v) {
    Stats s;
    s.count = v.size();
    if (!v.empty()) {
        s.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
        s.max = *std::max_element(v.begin(), v.end());
    }
    return s;
});
const auto root = ppool::typed_task("root", "square root of a non-negative number", [](double x) {
    if (x < 0) throw std::domain_error("no real square root of " + std::to_string(x));
    return std::sqrt(x);
});

int main(int argc, char** argv) {
    long n = argc > 1 ? std::stol(argv[1]) : 10;
    ppool::Pool pool({.processes = 2});

    // map: every value, in input order.
    std::vector<long> items(static_cast<std::size_t>(n));
    std::iota(items.begin(), items.end(), 1L);
    std::vector<long> squares = ppool::map(pool, square, items);
    std::cout << "sum of squares 1.." << n << " = " << std::accumulate(squares.begin(), squares.end(), 0L) << "\n";

    // starmap: several arguments per call.
    std::vector<long> sums = ppool::starmap(pool, add, std::vector<std::pair<long, long>>{{1, 2}, {30, 12}});
    std::cout << "1+2 = " << sums[0] << ", 30+12 = " << sums[1] << "\n";

    // apply_async: a value of the program's own type, collected later.
    auto later = ppool::apply_async(pool, summarize, std::vector<double>{2, 4, 9});
    Stats stats = later.get(10.0);
    std::cout << "count " << stats.count << ", mean " << stats.mean << ", max " << stats.max << "\n";

    // imap_unordered: values as they finish.
    long total = 0;
    for (long v : ppool::imap_unordered(pool, square, {4, 5})) total += v;
    std::cout << "4^2 + 5^2 = " << total << "\n";

    // A task's exception reaches the caller as TaskError, with its message.
    try {
        ppool::apply(pool, root, -1);
    } catch (const ppool::TaskError& e) {
        std::cout << "error: " << e.what() << "\n";
    }
    pool.close();
    pool.join();
}
