#include "os/event_loop.hpp"

#include "os/signals.hpp"

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <time.h>

namespace ppool::os {

std::size_t PollSet::add(int fd, short events) {
    m_fds.push_back(pollfd{fd, events, 0});
    return m_fds.size() - 1;
}

Wake wait(PollSet& set, std::optional<TimePoint> deadline) {
    if (peek_caught_signal() != 0) return Wake::signal;
    timespec ts{};
    timespec* timeout = nullptr;
    if (deadline) {
        auto left = *deadline - Clock::now();
        if (left < Clock::duration::zero()) left = Clock::duration::zero();
        auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
        ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
        ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
        timeout = &ts;
    }
    int n = ::ppoll(set.data(), set.size(), timeout, wait_mask());
    if (n < 0) {
        if (errno == EINTR) return peek_caught_signal() != 0 ? Wake::signal : Wake::ready;
        throw std::system_error(errno, std::generic_category(), "ppoll");
    }
    if (peek_caught_signal() != 0) return Wake::signal;
    return n == 0 ? Wake::deadline : Wake::ready;
}

Clock::duration seconds(double s) {
    // Beyond a billion seconds (31 years) is forever, and must not overflow.
    s = std::min(s, 1e9);
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

}  // namespace ppool::os
