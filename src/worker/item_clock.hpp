#pragma once

#include <chrono>
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace ppool::worker {

/// Run times of items far shorter than a clock read (`len` takes less time
/// than clock_gettime): the time-stamp counter per item, converted to
/// nanoseconds of the steady clock read once per stretch of items.
class ItemClock {
public:
    ItemClock() : m_last(ticks()), m_stretch_ticks(m_last), m_stretch_ns(now_ns()) {}

    /// Ticks since the previous lap (or since the clock was made).
    std::uint64_t lap() {
        auto t = ticks();
        auto d = t - m_last;
        m_last = t;
        return d;
    }

    /// Nanoseconds per tick over the stretch since the previous call, which starts a new one.
    double rescale() {
        auto t = m_last;
        auto ns = now_ns();
        double ratio = t > m_stretch_ticks ? static_cast<double>(ns - m_stretch_ns) / static_cast<double>(t - m_stretch_ticks)
                                           : 1.0;
        m_stretch_ticks = t;
        m_stretch_ns = ns;
        return ratio;
    }

    /// The time-stamp counter now (the steady clock's nanoseconds where there is none).
    static std::uint64_t ticks() {
#if defined(__x86_64__) || defined(__i386__)
        return __rdtsc();
#else
        return now_ns();
#endif
    }

    /// The steady clock in nanoseconds.
    static std::uint64_t now_ns() {
        return static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
                .count());
    }

private:
    std::uint64_t m_last;
    std::uint64_t m_stretch_ticks;
    std::uint64_t m_stretch_ns;
};

}  // namespace ppool::worker
