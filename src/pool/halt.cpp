#include "pool/halt.hpp"

namespace ppool::detail {

HaltRule HaltCounter::rule_of(const PoolOptions& options) {
    if (options.halt.when != HaltRule::When::never || !options.fail_fast) return options.halt;
    return HaltRule{HaltRule::When::now, HaltRule::On::fail, 1, false};
}

bool HaltCounter::reached(std::optional<std::uint64_t> total) const {
    if (m_rule.when == HaltRule::When::never) return false;
    std::uint64_t n = m_rule.on == HaltRule::On::fail      ? m_failed
                      : m_rule.on == HaltRule::On::success ? m_done - m_failed
                                                           : m_done;
    if (n == 0) return false;
    if (!m_rule.percent) return n >= m_rule.count;
    // GNU parallel's rule: at least that share of all the items (3% of 10 is 1 task, 25% is 3).
    return total && n * 100 >= m_rule.count * *total;
}

}  // namespace ppool::detail
