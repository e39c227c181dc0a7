#include "pool/core.hpp"

#include "os/signals.hpp"
#include "os/sysload.hpp"
#include "pool/run_data.hpp"

#include <algorithm>

namespace ppool::detail {

std::optional<os::TimePoint> deadline_after(Timeout timeout) {
    if (!timeout) return std::nullopt;
    return os::Clock::now() + os::seconds(*timeout);
}

namespace {

/// The watch on make's jobserver among the job inputs: no job has id 0.
constexpr std::uint64_t k_token_watch = 0;
/// The watches of descriptors outside the pool (Core::watch): no job has this id either.
constexpr std::uint64_t k_outside_watch = ~std::uint64_t{0};

/// make's jobserver when the options ask for it and MAKEFLAGS names one that
/// can be used. One that cannot is worth a word: the user expects make's limit.
std::optional<os::Jobserver> make_jobserver(const PoolOptions& options) {
    if (!options.make_jobserver) return std::nullopt;
    std::string problem;
    auto jobserver = os::Jobserver::from_environment(&problem);
    if (!problem.empty() && options.on_warning)
        options.on_warning(problem + "; running up to " + std::to_string(options.processes) + " tasks at once");
    return jobserver;
}

}  // namespace

Core::Core(PoolOptions options, std::unique_ptr<WorkerSet> workers)
    : Core(options, std::move(workers), make_jobserver(options)) {}

Core::Core(PoolOptions options, std::unique_ptr<WorkerSet> workers, std::optional<os::Jobserver> jobserver)
    : m_options(std::move(options)), m_workers(std::move(workers)), m_jobserver(std::move(jobserver)),
      m_pacer(m_options, Pacer::Readers{os::load_average, os::memory_available}) {}

Core::Core(PoolOptions options, std::unique_ptr<WorkerSet> workers, Pacer::Readers readers)
    : m_options(std::move(options)), m_workers(std::move(workers)), m_pacer(m_options, std::move(readers)) {}

Core::~Core() { terminate(); }

std::shared_ptr<Job> Core::submit(const TaskInfo& task, std::unique_ptr<ItemSource> items, std::size_t chunksize,
                                  bool ordered, std::size_t window, HaltRule halt) {
    if (!m_broken.empty()) throw InitializerError(m_broken);
    if (m_closed || m_terminated) throw Error("the pool is closed");
    auto job = std::make_shared<Job>(m_next_job++, task, std::move(items), chunksize, ordered, window, halt);
    m_scheduler.add(job);
    return job;
}

bool Core::run_until(const std::function<bool()>& done, std::optional<os::TimePoint> deadline) {
    for (;;) {
        if (done()) return true;
        if (m_in_callback) throw Error("a callback cannot wait on the pool; it may submit more work");
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
    // Something runs whenever a token is missing, so this watch never keeps an idle pool waiting.
    if (m_token_wait) inputs.push_back(InputWatch{m_jobserver->poll_fd(), k_token_watch, false});
    for (const auto& [fd, watch] : m_watches)
        inputs.push_back(
            InputWatch{fd, k_outside_watch, false, static_cast<short>(watch.writable ? POLLIN | POLLOUT : POLLIN)});
    if (inputs.empty() && !m_workers->busy() && !m_pace_wake) {
        // Reading may just have finished a job: settle it before the caller looks.
        settle();
        return false;
    }
    // A task held back by the pace is looked at again in time.
    auto until = deadline;
    if (m_pace_wake && (!until || *m_pace_wake < *until)) until = m_pace_wake;
    // Reused, so that a turn with a thousand results does not regrow the vector.
    auto& events = m_events;
    events.runs.clear();
    events.requeue.clear();
    events.fatal.clear();
    auto wake = m_workers->wait(inputs, until, events);
    apply(events);
    return_tokens();
    for (auto& input : inputs)
        if (input.readable && input.job != k_token_watch && input.job != k_outside_watch)
            if (auto* job = m_scheduler.find(input.job)) job->read_input();
    if (wake == os::Wake::signal) throw Interrupted(os::take_caught_signal());
    if (!events.fatal.empty()) fail(events.fatal);
    settle();
    run_watches(inputs);
    return true;
}

void Core::run_watches(const std::vector<InputWatch>& inputs) {
    for (const auto& input : inputs) {
        if (!input.readable || input.job != k_outside_watch) continue;
        // An earlier watch of this turn may have removed this one.
        auto found = m_watches.find(input.fd);
        if (found == m_watches.end()) continue;
        auto hook = found->second.on_ready;
        m_in_callback = true;
        try {
            hook();
        } catch (...) {
            m_in_callback = false;
            throw;
        }
        m_in_callback = false;
    }
}

void Core::settle() {
    std::vector<std::shared_ptr<Job>> done;
    for (const auto& job : m_scheduler.jobs())
        if (job->finished() && job->has_on_finished()) done.push_back(job);
    m_scheduler.prune();
    // After the pruning: a callback may submit jobs, or throw.
    for (auto& job : done) {
        auto hook = job->take_on_finished();
        m_in_callback = true;
        try {
            hook(*job);
        } catch (...) {
            m_in_callback = false;
            throw;
        }
        m_in_callback = false;
    }
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
    m_token_wait = false;
    m_pace_wake.reset();
    fill_slots();
    m_workers->send_dispatched();
}

void Core::fill_slots() {
    // A slot may take a second chunk behind its first (see ProcessWorkerSet::idle),
    // but only once every slot has one: a pass to fill them, then one to queue.
    for (int pass = 0; pass < 2; ++pass) {
        for (std::size_t slot = 0; slot < m_workers->size(); ++slot) {
            while (m_workers->idle(slot)) {
                if (m_pacer.active() && !may_start()) return;
                // Without a jobserver this costs nothing: no token is asked for.
                if (m_jobserver && (!m_scheduler.has_work() || !take_token())) return;
                auto chunk = m_scheduler.next_chunk(m_workers->budget(slot));
                if (!chunk) return;
                time_chunk(*chunk);
                if (m_pacer.active()) m_pacer.started(os::Clock::now());
                m_workers->dispatch(slot, std::move(*chunk));
            }
        }
    }
}

bool Core::may_start() {
    // Only on a free slot: a chunk queued behind a running one would start unpaced.
    if (!m_scheduler.has_work() || m_workers->running() >= m_workers->size()) return false;
    m_pace_wake = m_pacer.hold(os::Clock::now());
    return !m_pace_wake;
}

namespace {

/// GNU parallel's rule: the median means something once this many tasks have succeeded.
constexpr std::size_t k_timed_after = 3;
/// The shortest limit --timeout N% sets: a task is not stopped before it could start.
constexpr double k_min_limit_s = 0.001;

}  // namespace

void Core::time_chunk(Chunk& chunk) const {
    if (!(m_options.task_timeout_percent > 0)) return;
    chunk.timed_by_pool = true;
    chunk.timeout = m_options.task_timeout;
    if (m_run_times.count() >= k_timed_after)
        chunk.timeout = std::max(k_min_limit_s, m_run_times.median() * m_options.task_timeout_percent / 100);
}

void Core::note_run_times(const ResultRun& run) {
    if (!(m_options.task_timeout_percent > 0)) return;
    const auto& entries = run.data()->entries;
    for (std::size_t i = run.begin_index(); i < run.end_index(); ++i)
        if (entries[i].status == Status::ok) m_run_times.add(static_cast<double>(entries[i].duration_ns) / 1e9);
}

bool Core::take_token() {
    // The first running task uses the token make gave to ppool itself.
    if (m_jobserver->held() >= m_workers->running()) return true;
    if (m_jobserver->try_acquire()) return true;
    m_token_wait = true;
    return false;
}

void Core::return_tokens() {
    if (!m_jobserver) return;
    std::size_t running = m_terminated ? 0 : m_workers->running();
    std::size_t keep = running > 0 ? running - 1 : 0;
    while (m_jobserver->held() > keep) m_jobserver->release();
}

void Core::apply(WorkerEvents& events) {
    for (auto& back : events.requeue)
        if (auto* job = m_scheduler.find(back.job)) job->requeue(std::move(back.items));
    bool stop = false;
    for (auto& event : events.runs) {
        auto* job = m_scheduler.find(event.job);
        if (!job) continue;
        note_run_times(event.run);
        job->deliver(std::move(event.run));
        stop = stop || job->halted_now();
    }
    // Halting now (fail-fast): the running tasks are stopped, not waited for.
    if (stop) terminate();
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
    // Nothing runs any more: every token goes back, whatever stopped the pool.
    return_tokens();
    m_scheduler.cancel_all(m_broken.empty() ? "the pool was terminated" : m_broken);
}

void Core::join() {
    if (!m_closed) throw Error("join() needs close() or terminate() first");
    if (m_terminated) return;
    run_until([&] { return m_scheduler.jobs().empty(); }, std::nullopt);
    m_workers->shutdown();
    return_tokens();
}

}  // namespace ppool::detail
