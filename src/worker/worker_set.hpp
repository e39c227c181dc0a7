#pragma once

#include <cstdint>
#include <poll.h>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "os/event_loop.hpp"
#include "ppool/result_run.hpp"
#include "worker/chunk.hpp"

namespace ppool::detail {

/// An input descriptor the pool's loop should wait on for a job.
struct InputWatch {
    int fd = -1;
    std::uint64_t job = 0;  ///< 0: not a job's input (make's jobserver)
    bool readable = false;  ///< set by the wait: any of `events` came (or a hangup)
    short events = POLLIN;  ///< what to wait for: POLLIN, and POLLOUT for a writer
};

/// Results of a job's items that came in a wait.
struct RunEvent {
    std::uint64_t job = 0;
    ResultRun run;
};

/// Items of a job handed out that no worker started.
struct RequeueEvent {
    std::uint64_t job = 0;
    ItemBlock items;
};

/// What happened during one wait.
struct WorkerEvents {
    std::vector<RunEvent> runs;  ///< in the order they came
    std::vector<RequeueEvent> requeue;
    std::string fatal;           ///< set when the pool must stop (initializer failed)
};

/// The slots that run chunks: real forked workers, or a scripted fake in tests.
/// Nothing here blocks except `wait`, the pool's single blocking call.
class WorkerSet {
public:
    virtual ~WorkerSet() = default;
    virtual std::size_t size() const = 0;
    /// Whether the slot can take a chunk now.
    virtual bool idle(std::size_t slot) const = 0;
    /// Tasks the slot may run before it is recycled; 0 means no limit.
    virtual std::uint64_t budget(std::size_t slot) const = 0;
    /// Hands a chunk to an idle slot; never blocks. What it sends may wait
    /// for send_dispatched().
    virtual void dispatch(std::size_t slot, Chunk chunk) = 0;
    /// Sends what dispatch() handed out since the last call, as far as the
    /// channels take it now: a slot given two chunks gets them in one write,
    /// and a sleeping worker is woken once, not per chunk.
    virtual void send_dispatched() {}
    /// Whether any slot holds a chunk.
    virtual bool busy() const = 0;
    /// Slots running a chunk now (a worker that is only retiring does not count).
    virtual std::size_t running() const = 0;
    /// Waits for workers, the readable inputs and the deadline; fills `out`
    /// and marks readable inputs.
    virtual os::Wake wait(std::vector<InputWatch>& inputs, std::optional<os::TimePoint> until, WorkerEvents& out) = 0;
    /// Stops every worker and its commands now (TERM, grace, KILL); chunks in flight are dropped.
    virtual void terminate() = 0;
    /// Lets idle workers exit and reaps them.
    virtual void shutdown() = 0;
};

}  // namespace ppool::detail
