#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ppool/result.hpp"

namespace ppool::worker {

/// The bytes of task output one pool may hold in memory, shared by its spools
/// and by the results they hand over until those are gone: past it, outputs go
/// to temporary files, so that memory does not grow with the number of workers.
class OutputBudget {
public:
    /// What a pool holds in memory at most.
    static constexpr std::size_t k_default_bytes = 32 << 20;

    explicit OutputBudget(std::size_t bytes = k_default_bytes) : m_free(bytes) {}
    /// Takes `n` bytes if they are free.
    bool take(std::size_t n);
    void give(std::size_t n) { m_free.fetch_add(n, std::memory_order_relaxed); }

private:
    // Atomic: a library caller may drop a result on another thread.
    std::atomic<std::size_t> m_free;
};

/// Collects one item's output as its parts arrive: in memory while small and
/// within the pool's budget, then in an unlinked temporary file, so that memory
/// stays bounded however large the output. A failed write (disk full, no
/// memory) is remembered, never hidden.
class Spool {
public:
    /// Bytes one output may keep in memory before it moves to a temporary file.
    static constexpr std::size_t k_memory_limit = 4 << 20;

    explicit Spool(std::shared_ptr<OutputBudget> budget = std::make_shared<OutputBudget>())
        : m_budget(std::move(budget)) {}
    /// The charge moves with the bytes; the moved-from spool is empty.
    Spool(Spool&& other) noexcept;
    Spool& operator=(Spool&& other) noexcept;
    ~Spool() { reset(); }

    void append(std::string_view data);
    /// Adds the final piece and hands the whole over as `large` (in memory
    /// within the budget, or on disk). Resets the spool. False if storing
    /// failed (the reason is in `error`).
    bool finish(std::string_view tail, std::shared_ptr<const LargeOutput>& large, std::string& error);
    /// Whether nothing has been appended since the last finish or reset.
    bool empty() const { return !m_file && m_memory.empty() && m_error.empty(); }
    void reset();

private:
    class File;
    class Memory;
    /// Moves what is in memory to a new temporary file.
    void spill();
    void release_memory();

    std::shared_ptr<OutputBudget> m_budget;
    // The parts as they came: no buffer that doubles as it grows, so what the
    // budget counts is what the heap holds.
    std::vector<std::string> m_memory;
    std::size_t m_charged = 0;  // bytes of m_memory, all taken from the budget
    std::shared_ptr<File> m_file;
    std::string m_error;
};

}  // namespace ppool::worker
