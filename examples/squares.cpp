// A small program on the ppool library: register a task, then map, apply and
// stream over a pool of forked workers. Run: squares [N]
#include <ppool/pool.hpp>

#include <iostream>
#include <string>

PPOOL_REGISTER_TASK("square", "squares an integer", [](std::string_view s) {
    auto v = std::stoll(std::string(s));
    return std::to_string(v * v);
});

int main(int argc, char** argv) {
    int n = argc > 1 ? std::stoi(argv[1]) : 10;
    std::vector<std::string> items;
    for (int i = 1; i <= n; ++i) items.push_back(std::to_string(i));

    ppool::Pool pool({.processes = 2});
    // map: every result, in input order.
    long long total = 0;
    for (const auto& s : pool.map("square", items)) total += std::stoll(s);
    std::cout << "sum of squares 1.." << n << " = " << total << "\n";

    // apply_async: a result to collect later, with a time limit.
    auto one = pool.apply_async("square", "12");
    std::cout << "12^2 = " << one.get(10.0) << "\n";

    // The built-in tasks are there too, in any program linked with ppool.
    std::cout << "len(hello) = " << pool.apply("len", "hello") << "\n";

    // A failing task surfaces as an exception with its message.
    try {
        pool.apply("square", "not a number");
    } catch (const ppool::TaskError& e) {
        std::cout << "error: " << e.what() << "\n";
    }
    pool.close();
    pool.join();
}
