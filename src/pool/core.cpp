#include "pool/core.hpp"

#include "os/signals.hpp"

namespace ppool::detail {

std::optional<os::TimePoint> deadline_after(Timeout timeout) {
    if (!timeout) return std::nullopt;
    return os::Clock::now() + os::seconds(*timeout);
}

Core::Core(PoolOptions options, std::unique_ptr<WorkerSet> workers)
    : m_options(std::move(options)), m_workers(std::move(workers)) {}

Core::~Core() { terminate(); }

std::shared_ptr<Job> Core::submit(std::string task, std::unique_ptr<ItemSource> items, std::size_t chunksize,
                                  bool ordered, std::size_t window, bool fail_fast) {
    if (!m_broken.empty()) throw InitializerError(m_broken);
    if (m_closed || m_terminated) throw Error("the pool is closed");
    auto job = std::make_shared<Job>(m_next_job++, std::move(task), std::move(items), chunksize, ordered, window,
                                      fail_fast);
    m_scheduler.add(job);
    return job;
}

bool Core::run_until(const std::function<bool()>& done, std::optional<os::TimePoint> deadline) {
    for (;;) {
        if (done()) return true;
        if (!m_broken.empty()) throw InitializerError(m_broken);
        if (deadline && os::Clock::now() >= *deadline) return false;
        if (step(deadline)) continue;
        // Nothing is running or readable: unless that was enough, waiting would hang forever.
        if (done()) return true;
        throw Error(m_terminated ? "the pool was terminated" : "waiting on a result no work will produce");
    }
}

bool Core::step(std::optional<os::TimePoint> deadline) {
    auto inputs = read_memory_inputs();
    hand_out();
    if (inputs.empty() && !m_workers->busy()) {
        // Reading may just have finished a job: forget it before the caller looks.
        m_scheduler.prune();
        return false;
    }
    // Reused, so that a turn with a thousand results does not regrow the vector.
    auto& events = m_events;
    events.results.clear();
    events.runs.clear();
    events.requeue.clear();
    events.fatal.clear();
    auto wake = m_workers->wait(inputs, deadline, events);
    apply(events);
    for (auto& input : inputs)
        if (input.readable)
            if (auto* job = m_scheduler.find(input.job)) job->read_input();
    if (wake == os::Wake::signal) throw Interrupted(os::take_caught_signal());
    if (!events.fatal.empty()) fail(events.fatal);
    m_scheduler.prune();
    return true;
}

std::vector<InputWatch> Core::read_memory_inputs() {
    std::vector<InputWatch> watches;
    for (const auto& job : m_scheduler.jobs()) {
        if (!job->wants_input()) continue;
        if (job->source().fd() < 0) {
            job->read_input();
            // Reading a memory source cannot block; one more look ends it.
            if (job->wants_input()) job->read_input();
        } else {
            watches.push_back(InputWatch{job->source().fd(), job->id(), false});
        }
    }
    return watches;
}

void Core::hand_out() {
    for (std::size_t slot = 0; slot < m_workers->size(); ++slot) {
        if (!m_workers->idle(slot)) continue;
        auto chunk = m_scheduler.next_chunk(m_workers->budget(slot));
        if (!chunk) return;
        m_workers->dispatch(slot, std::move(*chunk));
    }
}

void Core::apply(WorkerEvents& events) {
    m_next_run = 0;
    for (auto& chunk : events.requeue)
        if (auto* job = m_scheduler.find(chunk.job)) job->requeue(std::move(chunk.items));
    bool stop = false;
    std::size_t index = 0;
    for (auto& [id, result] : events.results) {
        deliver_runs(events, index++);
        auto* job = m_scheduler.find(id);
        if (!job) continue;
        job->deliver(std::move(result));
        stop = stop || job->stopped_by_failure();
    }
    deliver_runs(events, events.results.size());
    // Fail-fast: the running tasks are stopped, not waited for.
    if (stop) terminate();
}

void Core::deliver_runs(WorkerEvents& events, std::size_t before) {
    // In the order they came: runs are delivered before the result they preceded.
    for (; m_next_run < events.runs.size() && events.runs[m_next_run].before <= before; ++m_next_run)
        if (auto* job = m_scheduler.find(events.runs[m_next_run].job))
            job->deliver_run(std::move(events.runs[m_next_run].run));
}

void Core::fail(const std::string& why) {
    m_broken = why;
    terminate();
    throw InitializerError(why);
}

void Core::terminate() {
    if (m_terminated) return;
    m_terminated = true;
    m_closed = true;
    m_workers->terminate();
    m_scheduler.cancel_all(m_broken.empty() ? "the pool was terminated" : m_broken);
}

void Core::join() {
    if (!m_closed) throw Error("join() needs close() or terminate() first");
    if (m_terminated) return;
    run_until([&] { return m_scheduler.jobs().empty(); }, std::nullopt);
    m_workers->shutdown();
}

}  // namespace ppool::detail
