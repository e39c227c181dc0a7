#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "os/event_loop.hpp"
#include "ppool/pool.hpp"

namespace ppool::detail {

/// How fast tasks may start (GNU parallel's --delay, --load, --memfree): a
/// delay between two starts, and no start while this machine's load is too
/// high or its available memory too low.
class Pacer {
public:
    /// How the machine is doing now; none when it cannot be read (no limit then).
    struct Readers {
        std::function<std::optional<double>()> load;
        std::function<std::optional<std::uint64_t>()> memory;
    };
    /// The machine is looked at again this often while it holds tasks back.
    static constexpr double k_recheck_s = 0.1;

    Pacer(const PoolOptions& options, Readers readers);
    /// Whether any limit is set: only then must tasks start one by one.
    bool active() const { return m_delay_s > 0 || m_max_load > 0 || m_min_memory > 0; }
    /// None if a task may start at `now`; else when to ask again.
    std::optional<os::TimePoint> hold(os::TimePoint now) const;
    /// A task started at `now`.
    void started(os::TimePoint now) { m_last_start = now; }

private:
    double m_delay_s;
    double m_max_load;
    std::uint64_t m_min_memory;
    Readers m_readers;
    std::optional<os::TimePoint> m_last_start;
};

}  // namespace ppool::detail
