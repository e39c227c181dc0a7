// Spools and the pool's output budget: what stays in memory, what goes to disk,
// and that every byte taken from the budget comes back.
#include <doctest/doctest.h>

#include "worker/spool.hpp"

#include <memory>
#include <string>

using namespace ppool;
using namespace ppool::worker;

namespace {

struct Handed {
    std::shared_ptr<const LargeOutput> large;
    std::string error;
    bool ok = false;
};

Handed finish(Spool& spool, std::string_view tail = {}) {
    Handed h;
    h.ok = spool.finish(tail, h.large, h.error);
    return h;
}

/// Free bytes of `budget`, found by taking them all and giving them back.
std::size_t free_bytes(OutputBudget& budget) {
    std::size_t low = 0, high = std::size_t(1) << 40;
    while (low < high) {
        std::size_t mid = low + (high - low + 1) / 2;
        if (budget.take(mid)) {
            budget.give(mid);
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    return low;
}

const std::string k_part(64 << 10, 'x');

}  // namespace

TEST_CASE("an output is handed over whole, its last piece too, charged until the result is gone") {
    auto budget = std::make_shared<OutputBudget>(1 << 20);
    Spool spool(budget);
    spool.append(k_part);
    auto h = finish(spool, "hello\n");
    REQUIRE(h.ok);
    REQUIRE(h.large);
    CHECK(h.large->read_all() == k_part + "hello\n");
    CHECK(free_bytes(*budget) == (1 << 20) - k_part.size() - 6);
    h.large.reset();
    CHECK(free_bytes(*budget) == 1 << 20);
    CHECK(spool.empty());
}

TEST_CASE("an output within the budget stays in memory, charged until the result is gone") {
    auto budget = std::make_shared<OutputBudget>(1 << 20);
    Spool spool(budget);
    for (int i = 0; i < 4; ++i) spool.append(k_part);
    auto h = finish(spool);
    REQUIRE(h.ok);
    REQUIRE(h.large);
    CHECK(h.large->size() == 4 * k_part.size());
    CHECK(h.large->read_all() == k_part + k_part + k_part + k_part);
    CHECK(free_bytes(*budget) == (1 << 20) - 4 * k_part.size());
    h.large.reset();
    CHECK(free_bytes(*budget) == 1 << 20);
}

TEST_CASE("past the budget, outputs go to disk and the memory they held comes back") {
    auto budget = std::make_shared<OutputBudget>(3 * k_part.size());
    Spool first(budget), second(budget);
    first.append(k_part);
    first.append(k_part);
    second.append(k_part);
    // The budget is spent: the next part moves the whole of `second` to a file.
    second.append(k_part);
    CHECK(free_bytes(*budget) == k_part.size());
    auto a = finish(first);
    auto b = finish(second, "tail");
    REQUIRE(a.large);
    REQUIRE(b.large);
    CHECK(b.large->read_all() == k_part + k_part + "tail");
    CHECK(free_bytes(*budget) == k_part.size());
    a.large.reset();
    CHECK(free_bytes(*budget) == 3 * k_part.size());
}

TEST_CASE("one output keeps at most the per-output limit in memory, whatever the budget") {
    auto budget = std::make_shared<OutputBudget>(64 << 20);
    Spool spool(budget);
    for (std::size_t n = 0; n < Spool::k_memory_limit + k_part.size(); n += k_part.size()) spool.append(k_part);
    CHECK(free_bytes(*budget) == 64 << 20);
    auto h = finish(spool);
    REQUIRE(h.large);
    CHECK(h.large->size() == Spool::k_memory_limit + k_part.size());
}

TEST_CASE("a spool that is reset or moved from gives its memory back once") {
    auto budget = std::make_shared<OutputBudget>(1 << 20);
    {
        Spool spool(budget);
        spool.append(k_part);
        Spool moved(std::move(spool));
        CHECK(free_bytes(*budget) == (1 << 20) - k_part.size());
        spool = Spool(budget);
        moved.reset();
        CHECK(free_bytes(*budget) == 1 << 20);
        moved.append(k_part);
    }
    CHECK(free_bytes(*budget) == 1 << 20);
}
