#include "pool/pacer.hpp"

namespace ppool::detail {

Pacer::Pacer(const PoolOptions& options, Readers readers)
    : m_delay_s(options.delay_s), m_max_load(options.max_load), m_min_memory(options.min_memfree),
      m_readers(std::move(readers)) {}

std::optional<os::TimePoint> Pacer::hold(os::TimePoint now) const {
    if (m_delay_s > 0 && m_last_start) {
        auto next = *m_last_start + os::seconds(m_delay_s);
        if (now < next) return next;
    }
    if (m_max_load > 0 && m_readers.load)
        if (auto load = m_readers.load(); load && *load > m_max_load) return now + os::seconds(k_recheck_s);
    if (m_min_memory > 0 && m_readers.memory)
        if (auto memory = m_readers.memory(); memory && *memory < m_min_memory)
            return now + os::seconds(k_recheck_s);
    return std::nullopt;
}

}  // namespace ppool::detail
