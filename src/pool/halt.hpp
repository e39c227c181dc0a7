#pragma once

#include <cstdint>
#include <optional>

#include "ppool/pool.hpp"

namespace ppool::detail {

/// Counts a job's finished tasks against its halt rule.
class HaltCounter {
public:
    explicit HaltCounter(HaltRule rule = {}) : m_rule(rule) {}

    /// The rule PoolOptions asks for: `halt` if set, else fail-fast as `now` on the first failure.
    static HaltRule rule_of(const PoolOptions& options);

    /// Counts a task at its last attempt.
    void add(bool ok) {
        ++m_done;
        if (!ok) ++m_failed;
    }
    /// Counts `n` tasks that succeeded at their first attempt.
    void add_successes(std::uint64_t n) { m_done += n; }
    /// Whether a task that succeeds can meet the rule (success or done):
    /// a rule on failures lets runs where all succeeded skip the per-task look.
    bool counts_successes() const {
        return m_rule.when != HaltRule::When::never && m_rule.on != HaltRule::On::fail;
    }
    /// Whether the rule's condition holds, given the job's number of items
    /// (none while the input has not ended: a percentage then cannot hold yet).
    bool reached(std::optional<std::uint64_t> total) const;
    HaltRule::When when() const { return m_rule.when; }
    /// Whether the rule needs the job's number of items.
    bool needs_total() const { return m_rule.when != HaltRule::When::never && m_rule.percent; }

private:
    HaltRule m_rule;
    std::uint64_t m_done = 0;
    std::uint64_t m_failed = 0;
};

}  // namespace ppool::detail
