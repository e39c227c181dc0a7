#include "ppool/pool.hpp"

#include "os/cpu.hpp"
#include "pool/core.hpp"
#include "pool/halt.hpp"
#include "worker/launcher.hpp"
#include "remote/ssh_command.hpp"
#include "remote/ssh_launcher.hpp"
#include "server/lend_launcher.hpp"
#include "remote/slurm.hpp"
#include "remote/sshlogin.hpp"
#include "worker/process_worker_set.hpp"

#include <exception>
#include <chrono>

#include <fmt/format.h>

namespace ppool {

namespace {

/// Results handed out but not taken, per worker and chunk, before a
/// streaming job stops handing out more.
constexpr std::size_t k_window_per_chunk = 4;
constexpr std::size_t k_min_window = 64;

void check_options(const PoolOptions& o) {
    if (o.processes < 0) throw UsageError(fmt::format("the number of processes must be at least 1, not {}", o.processes));
    if (o.task_timeout && !(*o.task_timeout > 0)) throw UsageError("the task timeout must be a positive number of seconds");
    if (!(o.delay_s >= 0) || !(o.max_load >= 0) || !(o.task_timeout_percent >= 0))
        throw UsageError("the delay, the load limit and the timeout percentage cannot be negative");
    if (o.halt.when != HaltRule::When::never && (o.halt.count == 0 || (o.halt.percent && o.halt.count > 100)))
        throw UsageError("a halt rule needs a count of at least 1, or a percentage from 1 to 100");
    if (o.slurm && (!o.sshlogins.empty() || !o.sshloginfile.empty()))
        throw UsageError("--slurm runs workers on the allocation's nodes: it does not take -S or --sshloginfile");
    if (!o.initializer.empty()) {
        const TaskInfo* init = TaskRegistry::global().find(o.initializer);
        if (!init || init->is_command()) throw UsageError(fmt::format("unknown initializer task '{}'", o.initializer));
    }
}

/// The task a job runs, looked up once for the whole job; UsageError if unknown.
const TaskInfo& resolve_task(std::string_view name) {
    const TaskInfo* task = TaskRegistry::global().find(name);
    if (!task) throw UsageError(fmt::format("unknown task '{}'", name));
    return *task;
}

template <class T>
T value_of(detail::Job& job);

template <>
std::string value_of<std::string>(detail::Job& job) {
    auto r = job.take();
    if (!r) {
        if (job.input_error()) std::rethrow_exception(job.input_error());
        throw Error(job.cancel_reason().empty() ? "no result" : job.cancel_reason());
    }
    if (!r->ok()) throw TaskError(std::move(*r));
    return r->large_output ? r->output_text() : std::move(r->output);
}

template <>
std::vector<std::string> value_of<std::vector<std::string>>(detail::Job& job) {
    if (job.cancelled() && !job.halted()) throw Error(job.cancel_reason());
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(job.items_read()));
    while (auto r = job.take()) {
        if (!r->ok()) throw TaskError(std::move(*r));
        out.push_back(r->large_output ? r->output_text() : std::move(r->output));
    }
    if (job.input_error()) std::rethrow_exception(job.input_error());
    return out;
}

/// Settles `outcome` from the finished job, once: the value or the error it throws.
template <class T>
void settle(detail::Job& job, detail::Outcome<T>& outcome) {
    if (outcome.settled) return;
    outcome.settled = true;
    try {
        outcome.value = value_of<T>(job);
    } catch (...) {
        outcome.error = std::current_exception();
    }
}

}  // namespace

template <class T>
T AsyncResult<T>::get(Timeout timeout) {
    wait(timeout);
    if (!ready()) throw TimeoutError();
    settle(*m_job, *m_outcome);
    if (m_outcome->error) std::rethrow_exception(m_outcome->error);
    return *m_outcome->value;
}

template <class T>
void AsyncResult<T>::wait(Timeout timeout) {
    m_core->run_until([&] { return m_job->finished(); }, detail::deadline_after(timeout));
}

template <class T>
bool AsyncResult<T>::ready() const {
    return m_job->finished();
}

template <class T>
bool AsyncResult<T>::successful() const {
    if (!ready()) throw Error("the result is not ready");
    return !m_job->cancelled() && m_job->failures() == 0 && !m_job->input_error();
}

template class AsyncResult<std::string>;
template class AsyncResult<std::vector<std::string>>;

/// Takes with `take` what the job has ready, running the pool until
/// something is or the job ends; no value at the end.
template <class Take>
auto ResultIterator::wait_and_take(Timeout timeout, Take take) -> decltype(take()) {
    // A result already here needs no turn of the loop.
    if (auto r = take()) return r;
    bool got = m_core->run_until([&] { return m_job->has_ready() || m_job->finished(); },
                                 detail::deadline_after(timeout));
    if (!got) throw TimeoutError();
    if (auto r = take()) return r;
    if (m_job->cancelled() && !m_job->halted()) throw Error(m_job->cancel_reason());
    // The input failed: after every result of what was read before it.
    if (m_job->input_error()) std::rethrow_exception(m_job->input_error());
    return std::nullopt;
}

std::optional<TaskResult> ResultIterator::next_result(Timeout timeout) {
    return wait_and_take(timeout, [&] { return m_job->take(); });
}

std::optional<std::string> ResultIterator::next(Timeout timeout) {
    auto r = next_result(timeout);
    if (!r) return std::nullopt;
    if (!r->ok()) throw TaskError(std::move(*r));
    return r->large_output ? r->output_text() : std::move(r->output);
}

std::optional<ResultRun> ResultIterator::next_batch(Timeout timeout) {
    return wait_and_take(timeout, [&] { return m_job->take_batch(); });
}

bool ResultIterator::has_ready() const { return m_job->has_ready(); }

JobProgress ResultIterator::progress() const {
    const auto& job = *m_job;
    return JobProgress{job.items_read(), job.completed(), job.failures(), job.in_flight(), job.source_done()};
}

ResultIterator::iterator& ResultIterator::iterator::operator++() {
    m_value = m_owner->next();
    if (!m_value) m_owner = nullptr;
    return *this;
}

namespace {

/// How long connecting to a host may take before it is given up.
constexpr std::chrono::seconds k_connect_timeout{30};

/// The hosts of -S and --sshloginfile, each with its launcher and slots. A
/// host that cannot be reached is said once and left out; with none left,
/// UsageError.
std::vector<worker::ProcessWorkerSet::HostSlots> hosts_of(const PoolOptions& o) {
    std::vector<remote::SshLogin> logins;
    for (const auto& spec : o.sshlogins)
        for (auto& login : remote::parse_sshlogins(spec)) logins.push_back(std::move(login));
    if (!o.sshloginfile.empty())
        for (auto& login : remote::read_sshloginfile(o.sshloginfile)) logins.push_back(std::move(login));
    auto ssh = o.ssh.empty() ? std::vector<std::string>{"ssh"} : remote::split_command_line(o.ssh, "--ssh");
    auto ppool = o.remote_ppool.empty() ? std::string("ppool") : o.remote_ppool;
    std::vector<worker::ProcessWorkerSet::HostSlots> hosts;
    std::string unreachable;
    for (const auto& login : logins) {
        std::optional<std::size_t> slots;
        if (login.slots) slots = *login.slots;
        else if (o.processes > 0) slots = static_cast<std::size_t>(o.processes);
        if (login.is_local) {
            hosts.push_back({worker::make_launcher(o.launcher), slots.value_or(static_cast<std::size_t>(os::usable_cpus())),
                             false});
            continue;
        }
        try {
            auto master = std::make_shared<remote::ControlMaster>(login, ssh, k_connect_timeout);
            hosts.push_back({std::make_unique<remote::SshLauncher>(std::move(master), login, ppool), slots.value_or(1),
                             !slots.has_value(), true});
        } catch (const remote::ConnectError& e) {
            unreachable = e.what();
            if (o.on_warning) o.on_warning(unreachable + "; going on without it");
        }
    }
    if (hosts.empty())
        throw UsageError(logins.empty() ? std::string("no host given to run workers on")
                                        : "no host to run workers on: " + unreachable);
    return hosts;
}

/// This machine's one host: `processes` workers, or as many as the process's limits hold.
/// The nodes of the Slurm allocation, each with its launcher (one step on
/// it) and its slots: the job's CPUs there, else `processes`.
std::vector<worker::ProcessWorkerSet::HostSlots> slurm_nodes(const PoolOptions& o) {
    auto ppool = o.remote_ppool.empty() ? worker::this_program() : o.remote_ppool;
    std::vector<worker::ProcessWorkerSet::HostSlots> hosts;
    for (auto& node : remote::slurm_allocation()) {
        auto slots = o.processes > 0 ? static_cast<std::size_t>(o.processes) : node.cpus;
        hosts.push_back({std::make_unique<remote::SlurmLauncher>(std::move(node), ppool), slots, false, true});
    }
    return hosts;
}

/// The workers a `ppool serve` lends: as many as asked, at most as many as it has.
std::vector<worker::ProcessWorkerSet::HostSlots> borrowed(const PoolOptions& o) {
    auto refuse = [](std::string_view what) {
        throw UsageError(fmt::format("a pool that borrows a server's workers takes them as they are: no {}", what));
    };
    if (!o.launcher.empty()) refuse("launcher");
    if (!o.sshlogins.empty() || !o.sshloginfile.empty() || o.slurm) refuse("other hosts");
    if (!o.initializer.empty() || !o.initializer_command.empty()) refuse("initializer (the server's has run)");
    if (o.maxtasksperchild) refuse("limit of tasks per worker");
    if (!o.transfer.empty() || !o.returns.empty()) refuse("files to transfer");
    auto launcher = std::make_unique<server::LendLauncher>(o.server);
    auto n = launcher->server_workers();
    if (o.processes > 0) n = std::min(n, static_cast<std::size_t>(o.processes));
    launcher->want(n);
    std::vector<worker::ProcessWorkerSet::HostSlots> hosts;
    hosts.push_back({std::move(launcher), n, false});
    return hosts;
}

std::vector<worker::ProcessWorkerSet::HostSlots> this_machine(const PoolOptions& options) {
    int n = options.processes > 0 ? options.processes : os::usable_cpus();
    auto launcher = worker::make_launcher(options.launcher);
    // Workers beyond what the process's limits hold would fail to start: run as many as fit.
    auto fit = worker::ProcessWorkerSet::capacity(static_cast<std::size_t>(n), *launcher);
    if (fit.workers < static_cast<std::size_t>(n)) {
        if (options.on_warning && !fit.limit.empty())
            options.on_warning(fmt::format("{} workers are more than {} leaves room for; running {}", n, fit.limit,
                                           fit.workers));
        n = static_cast<int>(fit.workers);
    }
    std::vector<worker::ProcessWorkerSet::HostSlots> hosts;
    hosts.push_back({std::move(launcher), static_cast<std::size_t>(n), false});
    return hosts;
}

}  // namespace

Pool::Pool(PoolOptions options) {
    check_options(options);
    bool remote = !options.sshlogins.empty() || !options.sshloginfile.empty();
    auto workers = std::make_unique<worker::ProcessWorkerSet>(
        options, !options.server.empty() ? borrowed(options)
                 : options.slurm        ? slurm_nodes(options)
                 : remote               ? hosts_of(options)
                                        : this_machine(options));
    options.processes = static_cast<int>(workers->size());
    m_core = std::make_shared<detail::Core>(std::move(options), std::move(workers));
}

Pool::~Pool() {
    // A destructor may not throw (out of memory while stopping, say): the
    // workers that a failure here leaves die with this process.
    try {
        if (m_core) m_core->terminate();
    } catch (const std::exception&) {
    }
}

std::shared_ptr<detail::Job> Pool::submit(std::string_view task, std::unique_ptr<ItemSource> items,
                                          std::size_t chunksize, bool ordered, bool bounded) {
    const TaskInfo& info = resolve_task(task);
    std::size_t window = 0;
    if (bounded)
        window = std::max(k_min_window, k_window_per_chunk * m_core->processes() * std::max<std::size_t>(chunksize, 1));
    const auto& options = m_core->options();
    auto job = m_core->submit(info, std::move(items), chunksize, ordered, window, detail::HaltCounter::rule_of(options));
    job->set_retries(options.retries);
    job->set_on_complete(options.on_complete);
    job->set_on_results(options.on_results);
    return job;
}

std::string Pool::apply(std::string_view task, std::string item) { return apply_async(task, std::move(item)).get(); }

template <class T>
AsyncResult<T> Pool::async(std::shared_ptr<detail::Job> job, typename AsyncResult<T>::Callback callback,
                           typename AsyncResult<T>::ErrorCallback error_callback) {
    auto outcome = std::make_shared<detail::Outcome<T>>();
    if (callback || error_callback) {
        job->set_on_finished([outcome, callback = std::move(callback),
                              error_callback = std::move(error_callback)](detail::Job& finished) {
            settle(finished, *outcome);
            if (!outcome->error) {
                if (callback) callback(*outcome->value);
                return;
            }
            if (!error_callback) return;
            try {
                std::rethrow_exception(outcome->error);
            } catch (const std::exception& e) {
                error_callback(e);
            } catch (...) {
                error_callback(Error("unknown exception"));
            }
        });
    }
    return AsyncResult<T>(m_core, std::move(job), std::move(outcome));
}

AsyncResult<std::string> Pool::apply_async(std::string_view task, std::string item,
                                           AsyncResult<std::string>::Callback callback,
                                           AsyncResult<std::string>::ErrorCallback error_callback) {
    std::vector<std::string> items;
    items.push_back(std::move(item));
    return async<std::string>(submit(task, items_from(std::move(items)), 1, true, false), std::move(callback),
                              std::move(error_callback));
}

void Pool::apply_async(std::string_view task, std::string item, std::function<void(const TaskResult&)> done) {
    std::vector<std::string> items;
    items.push_back(std::move(item));
    auto job = submit(task, items_from(std::move(items)), 1, true, false);
    job->set_on_finished([done = std::move(done)](detail::Job& finished) {
        if (auto result = finished.take()) return done(*result);
        TaskResult lost;
        lost.seq = 1;
        lost.error = finished.cancel_reason().empty() ? "no result" : finished.cancel_reason();
        done(lost);
    });
}

std::vector<std::string> Pool::map(std::string_view task, std::vector<std::string> items, std::size_t chunksize) {
    return map_async(task, std::move(items), chunksize).get();
}

AsyncResult<std::vector<std::string>> Pool::map_async(std::string_view task, std::vector<std::string> items,
                                                      std::size_t chunksize,
                                                      AsyncResult<std::vector<std::string>>::Callback callback,
                                                      AsyncResult<std::vector<std::string>>::ErrorCallback error_callback) {
    if (chunksize == 0) chunksize = default_chunksize(items.size(), processes());
    return async<std::vector<std::string>>(submit(task, items_from(std::move(items)), chunksize, true, false),
                                           std::move(callback), std::move(error_callback));
}

AsyncResult<std::vector<std::string>> Pool::map_source(std::string_view task, std::unique_ptr<ItemSource> items,
                                                       std::size_t chunksize,
                                                      AsyncResult<std::vector<std::string>>::Callback callback,
                                                      AsyncResult<std::vector<std::string>>::ErrorCallback error_callback) {
    return async<std::vector<std::string>>(submit(task, std::move(items), std::max<std::size_t>(chunksize, 1), true, false),
                                           std::move(callback), std::move(error_callback));
}

ResultIterator Pool::imap(std::string_view task, std::vector<std::string> items, std::size_t chunksize) {
    return ResultIterator(m_core, submit(task, items_from(std::move(items)), chunksize, true, false));
}

ResultIterator Pool::imap(std::string_view task, std::unique_ptr<ItemSource> items, std::size_t chunksize) {
    return ResultIterator(m_core, submit(task, std::move(items), chunksize, true, true));
}

ResultIterator Pool::imap_unordered(std::string_view task, std::vector<std::string> items, std::size_t chunksize) {
    return ResultIterator(m_core, submit(task, items_from(std::move(items)), chunksize, false, false));
}

ResultIterator Pool::imap_unordered(std::string_view task, std::unique_ptr<ItemSource> items,
                                    std::size_t chunksize) {
    return ResultIterator(m_core, submit(task, std::move(items), chunksize, false, true));
}

void Pool::close() { m_core->close(); }
void Pool::terminate() { m_core->terminate(); }
void Pool::join() { m_core->join(); }
int Pool::processes() const { return static_cast<int>(m_core->processes()); }
int Pool::running() const { return static_cast<int>(m_core->running()); }
void Pool::watch(int fd, std::function<void()> on_readable) { m_core->watch(fd, std::move(on_readable)); }
void Pool::watch_writable(int fd, std::function<void()> on_ready) { m_core->watch(fd, std::move(on_ready), true); }
void Pool::unwatch(int fd) { m_core->unwatch(fd); }
bool Pool::run_until(const std::function<bool()>& done, Timeout timeout) {
    return m_core->run_until(done, detail::deadline_after(timeout));
}

std::size_t Pool::default_chunksize(std::size_t n, int processes) {
    if (n == 0) return 1;
    std::size_t per = 4 * static_cast<std::size_t>(std::max(processes, 1));
    return (n + per - 1) / per;
}

}  // namespace ppool
