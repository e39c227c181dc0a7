#pragma once

#include <chrono>
#include <optional>
#include <poll.h>
#include <vector>

namespace ppool::os {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

/// Descriptors to wait on, rebuilt for every wait; `add` returns an index
/// for reading the outcome with `revents`.
class PollSet {
public:
    std::size_t add(int fd, short events);
    short revents(std::size_t index) const { return m_fds[index].revents; }
    std::size_t size() const { return m_fds.size(); }
    void clear() { m_fds.clear(); }
    void reserve(std::size_t n) { m_fds.reserve(n); }
    pollfd* data() { return m_fds.data(); }

private:
    std::vector<pollfd> m_fds;
};

/// What ended a wait.
enum class Wake { ready, deadline, signal };

/// The single blocking call of a process's loop: waits for any descriptor of
/// `set`, the deadline (none: no limit), or a signal caught by SignalCatcher.
Wake wait(PollSet& set, std::optional<TimePoint> deadline);

/// Seconds as a steady-clock duration.
Clock::duration seconds(double s);

}  // namespace ppool::os
