#pragma once

#include <concepts>
#include <cstdint>
#include <exception>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <vector>

#include "ppool/errors.hpp"
#include "ppool/item_source.hpp"
#include "ppool/result.hpp"
#include "ppool/result_run.hpp"
#include "ppool/task.hpp"

namespace ppool {

namespace detail {
class Core;
class Job;
}  // namespace detail

/// A piece of a running command task's output (PoolOptions::on_output).
struct OutputPiece {
    std::uint64_t seq = 0;   ///< the task's 1-based sequence number
    std::string_view input;  ///< its item
    int worker = -1;         ///< 0-based worker slot running it
    int stream = 1;          ///< 1: stdout, 2: stderr
    std::string_view data;   ///< the bytes, as the command wrote them (lines may be cut anywhere)
};

/// How long to wait: seconds, or no value for no limit.
using Timeout = std::optional<double>;

/// When a job stops before every item has run (GNU parallel's --halt): once
/// `count` tasks (or `count` percent of the job's items) have failed,
/// succeeded, or finished either way. `soon` starts no new task and waits for
/// the running ones; `now` stops the running ones too. A task counts at its
/// last attempt (see PoolOptions::retries).
struct HaltRule {
    /// Whether and how the job stops: never, soon (the running tasks finish), now (they are stopped).
    enum class When { never, soon, now };
    /// What is counted: failed, succeeded, or finished tasks.
    enum class On { fail, success, done };
    When when = When::never;  ///< never: the rule is off
    On on = On::fail;         ///< the tasks counted
    std::uint64_t count = 1;  ///< tasks; with `percent`, a percentage (1 to 100) of the job's items
    bool percent = false;     ///< `count` is a percentage of the job's items
};

/// Settings of a Pool, after Python's Pool(processes, initializer, initargs, maxtasksperchild).
struct PoolOptions {
    int processes = 0;                  ///< workers; 0 means the usable CPUs
    std::string initializer{};          ///< registered task each worker runs once with `initargs`
    std::string initargs{};             ///< the item the initializer runs on
    std::string initializer_command{};  ///< shell command each worker runs once (PPOOL_WORKER set)
    std::string shell{};                ///< the shell that runs initializer_command; empty: /bin/sh
    /// NAME=VALUE: set for every task and initializer, on every host (a
    /// worker on another host has its own environment otherwise).
    std::vector<std::string> environment{};
    std::uint64_t maxtasksperchild = 0; ///< tasks before a worker is replaced; 0 = never
    Timeout task_timeout{};             ///< per-task limit; expiry fails the item as timed out
    double kill_grace_s = 2.0;          ///< between SIGTERM and SIGKILL when stopping commands
    /// At the first failed task, hand out nothing more and stop the running
    /// tasks; results then end with the failure (ordered results jump the gap).
    bool fail_fast = false;
    /// Stops a job early on a condition; when set, it is used instead of `fail_fast`
    /// (which is `now` on the first failure).
    HaltRule halt{};
    /// Seconds at least between the starts of two tasks (GNU parallel's --delay); 0: none.
    double delay_s = 0;
    /// No task starts while the 1-minute load average of this machine is
    /// above this (GNU parallel's --load); 0: no limit.
    double max_load = 0;
    /// No task starts while this machine's available memory (MemAvailable)
    /// is below this many bytes (GNU parallel's --memfree); 0: no limit.
    std::uint64_t min_memfree = 0;
    /// With a value above 0, a task's limit is this percentage of the median
    /// run time of the tasks that succeeded so far, once 3 have (GNU
    /// parallel's --timeout N%); until then, `task_timeout` (if any) applies.
    double task_timeout_percent = 0;
    /// Runs a failed task up to this many more times before its failure counts;
    /// the result is the last attempt's.
    unsigned retries = 0;
    /// Inside `make -jN`: take a token from make's jobserver (MAKEFLAGS) for
    /// every task beyond the first running at once, and always give it back.
    bool make_jobserver = false;
    /// Told, in one line, of a change the pool made in order to run at all:
    /// MAKEFLAGS names a jobserver that cannot be used (the pool then runs up
    /// to `processes` tasks at once), or fewer workers than `processes` fit in
    /// the process's limits (open files, processes). Nothing is said without it.
    std::function<void(const std::string&)> on_warning{};
    /// How workers start (SPEC 9): "" or "fork", forked copies of this
    /// process (the only launcher for tasks registered in the program, and
    /// the fastest); "exec", this program run again as `PROGRAM worker
    /// --stdio` (the program must hand its arguments to ppool::cli::run);
    /// or a shell command that starts `ppool worker --stdio` (`docker exec
    /// -i box ppool worker --stdio`). Every worker is told its task,
    /// initializer, plugins and limits over its channel, never through fork memory.
    std::string launcher{};
    /// Hosts to run workers on (SPEC 9), in GNU parallel's form:
    /// "[N/][user@]host[:port]", several separated by commas, ":" for this
    /// machine (with `launcher`). Each host gets N slots, else `processes`,
    /// else as many as the CPUs its first worker reports. Every worker of a
    /// host is a session over one ssh connection. Empty: this machine only.
    std::vector<std::string> sshlogins{};
    /// A file of logins, one a line, as GNU parallel's --sshloginfile.
    std::string sshloginfile{};
    /// The ssh command and its options ("ssh -F my.conf"); empty: ssh.
    std::string ssh{};
    /// The ppool that the hosts run: a path, or a name looked up in their
    /// PATH; empty: "ppool" over ssh, this program's own path on Slurm nodes.
    std::string remote_ppool{};
    /// Run the workers on the nodes of the Slurm allocation this process runs
    /// in (SPEC 9): one `srun` step per node carries all its slots, as many as
    /// the job's CPUs there, else `processes`. Not with `sshlogins`.
    bool slurm = false;
    /// The Unix socket of a `ppool serve` (SPEC 10) whose workers, warm (their
    /// initializer has run), this pool borrows instead of starting its own:
    /// as many as `processes`, else as many as the server has, each lent
    /// once it is free there and given back when this pool is done with
    /// it. Their tasks run in this process's working directory with its
    /// environment. Not with `launcher`, `sshlogins`, `slurm`, an
    /// initializer, `maxtasksperchild` or files to transfer.
    std::string server{};
    /// GNU parallel's --transferfile: before an item runs on another host,
    /// these files (templates with replacement strings; "{}" is the file the
    /// item names, GNU parallel's --transfer) are sent there, to the same path
    /// (relative ones under the worker's working directory, the login's
    /// home), their mode kept. A file that cannot be read fails the item.
    /// Nothing is sent to this machine's slots.
    std::vector<std::string> transfer{};
    /// GNU parallel's --return: after an item ran on another host, these
    /// files (templates with replacement strings, such as "{}.out") are
    /// brought back to the same paths here. A file that is not there is said
    /// (on_warning), and the item's result stays as it was.
    std::vector<std::string> returns{};
    /// GNU parallel's --cleanup: the files sent for an item and those
    /// brought back are removed from the other host after it.
    bool cleanup = false;
    /// Called in the calling process for every task as it finishes (completion
    /// order, before any reordering), e.g. to log it at once.
    std::function<void(const TaskResult&)> on_complete{};
    /// Called as on_complete is, once per run of tasks that finished together
    /// (they arrived in one message from a worker): the cheap way to see every
    /// result, e.g. to log a run's lines in one write.
    std::function<void(const ResultRun&)> on_results{};
    /// When set, a command task's stdout and stderr come here, in the
    /// calling process, piece by piece as the command writes them, while it
    /// runs (GNU parallel's --line-buffer and --ungroup), from every worker,
    /// here or on other hosts; its result then holds no output and no
    /// stderr. A piece is never cut again, but a line may be cut between
    /// pieces. Registered tasks return one string: their results are as usual.
    std::function<void(const OutputPiece&)> on_output{};
    /// When set, each part of a task's stdout too large to travel in its
    /// result (64 KiB) is offered here as it arrives, before the task ends,
    /// with the task's sequence number: it returns how many of the part's
    /// first bytes it took (to write them out, say), and the pool holds the
    /// rest in the result as usual. A part is offered only while the pool
    /// holds none of the task's stdout: once it holds some, it holds the
    /// task's later parts too. The result then holds only what was not taken.
    std::function<std::size_t(std::uint64_t seq, std::string_view data)> on_output_part{};
};

namespace detail {
/// What an AsyncResult came to, settled once and shared by its copies and its callbacks.
template <class T>
struct Outcome {
    bool settled = false;
    std::optional<T> value;
    std::exception_ptr error;
};
}  // namespace detail

/// The result of apply_async / map_async, after Python's AsyncResult. Copies
/// share one result: every get() returns the same value or throws the same error.
template <class T>
class AsyncResult {
public:
    /// Called with the value once the call has succeeded (see Pool::apply_async).
    using Callback = std::function<void(const T&)>;
    /// Called with the error once the call has failed: a TaskError for a failed
    /// task, or what stopped the job (an error of its input, the pool's end).
    using ErrorCallback = std::function<void(const std::exception&)>;

    /// Waits up to `timeout`; the value, or TaskError for a failed task, or
    /// TimeoutError. Every call returns the same value or throws the same error.
    T get(Timeout timeout = {});
    /// Waits up to `timeout` for the result; does not throw for a failed task.
    void wait(Timeout timeout = {});
    /// Whether the call has completed.
    bool ready() const;
    /// Whether it completed without failure; throws Error if not ready yet.
    bool successful() const;

private:
    friend class Pool;
    AsyncResult(std::shared_ptr<detail::Core> core, std::shared_ptr<detail::Job> job,
                std::shared_ptr<detail::Outcome<T>> outcome)
        : m_core(std::move(core)), m_job(std::move(job)), m_outcome(std::move(outcome)) {}
    std::shared_ptr<detail::Core> m_core;
    std::shared_ptr<detail::Job> m_job;
    std::shared_ptr<detail::Outcome<T>> m_outcome;
};

/// How far a streaming job has got, for progress displays.
struct JobProgress {
    std::uint64_t read = 0;     ///< items read from the input so far
    std::uint64_t done = 0;     ///< items finished, failed ones included
    std::uint64_t failed = 0;   ///< items that failed, counted in `done` too
    std::uint64_t running = 0;  ///< items with a worker, not finished yet
    bool input_ended = false;   ///< `read` is the total
};

/// The results of imap / imap_unordered, one at a time.
class ResultIterator {
public:
    /// The next value; no value at the end. Throws TaskError for a failed
    /// task and TimeoutError if none arrives within `timeout`.
    std::optional<std::string> next(Timeout timeout = {});
    /// The next result, failed or not; no value at the end. Throws TimeoutError.
    std::optional<TaskResult> next_result(Timeout timeout = {});
    /// The next results as a worker sent them, in the job's order: a run of
    /// one or more (every option, every kind of task); no value at the end.
    /// Throws TimeoutError.
    std::optional<ResultRun> next_batch(Timeout timeout = {});
    /// Whether a result is ready to take without waiting.
    bool has_ready() const;
    /// Counts of the job so far.
    JobProgress progress() const;

    /// Range-for support over the values (a failed task throws TaskError).
    class iterator {
    public:
        /// A standard input iterator: `++` takes the next value, and at the end it equals `iterator()`.
        ///@{
        using iterator_category = std::input_iterator_tag;
        using value_type = std::string;
        using difference_type = std::ptrdiff_t;
        using pointer = const std::string*;
        using reference = const std::string&;
        iterator() = default;
        explicit iterator(ResultIterator* owner) : m_owner(owner) { ++*this; }
        reference operator*() const { return *m_value; }
        pointer operator->() const { return &*m_value; }
        iterator& operator++();
        void operator++(int) { ++*this; }
        bool operator==(const iterator& other) const { return m_owner == other.m_owner; }
        ///@}

    private:
        ResultIterator* m_owner = nullptr;
        std::optional<std::string> m_value;
    };
    /// Waits for the first value (as next()): the start of a range-for.
    iterator begin() { return iterator(this); }
    /// The end of the values.
    iterator end() { return iterator(); }

private:
    friend class Pool;
    ResultIterator(std::shared_ptr<detail::Core> core, std::shared_ptr<detail::Job> job)
        : m_core(std::move(core)), m_job(std::move(job)) {}
    template <class Take>
    auto wait_and_take(Timeout timeout, Take take) -> decltype(take());
    std::shared_ptr<detail::Core> m_core;
    std::shared_ptr<detail::Job> m_job;
};

/// A pool of forked worker processes running registered tasks, after
/// Python's multiprocessing.Pool. Single-threaded: every call that waits
/// drives the pool's one event loop. Tasks are named by their registry name.
class Pool {
public:
    /// Forks the workers. Throws UsageError for bad options or an unknown initializer.
    explicit Pool(PoolOptions options = {});
    /// Terminates the workers (as `terminate()`).
    ~Pool();
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    /// Runs `task` on `item` in a worker and returns its result; TaskError on failure.
    std::string apply(std::string_view task, std::string item);
    /// Starts `task` on `item`; the result comes later. `callback` gets the
    /// value, or `error_callback` the error, once it is ready.
    ///
    /// Callbacks run on the thread that drives the pool, inside whichever call
    /// of this pool is waiting when the result arrives (get, wait, next, map,
    /// join...), never on a thread of their own: so the program must be in a
    /// call of the pool for them to run, and they must not wait on the pool
    /// themselves (that throws Error). They may submit more work
    /// (apply_async, map_async, imap...). An exception a callback throws comes
    /// out of the call that ran it. A pool that is terminated first calls neither.
    AsyncResult<std::string> apply_async(std::string_view task, std::string item,
                                         AsyncResult<std::string>::Callback callback = {},
                                         AsyncResult<std::string>::ErrorCallback error_callback = {});

    /// Starts `task` on `item`; once it has finished, failed or not, `done`
    /// gets its whole result (output, a command's stderr, status), as
    /// apply_async's callbacks are called. A result the pool could not
    /// produce (it was terminated) is a failed one whose error says why.
    void apply_async(std::string_view task, std::string item, std::function<void(const TaskResult&)> done);

    /// `task` over every item, results in input order; TaskError on the first failure.
    /// A chunksize of 0 is computed as Python does: ceil(n / (4 × processes)).
    std::vector<std::string> map(std::string_view task, std::vector<std::string> items, std::size_t chunksize = 0);
    /// The same over any range of strings (copied into the pool's input).
    template <std::ranges::input_range R>
        requires(!std::same_as<std::remove_cvref_t<R>, std::vector<std::string>> &&
                 std::constructible_from<std::string, std::ranges::range_reference_t<R>>)
    std::vector<std::string> map(std::string_view task, R&& items, std::size_t chunksize = 0) {
        return map(task, to_strings(std::forward<R>(items)), chunksize);
    }
    /// The same over an ItemSource, read as the pool goes; a chunksize of 0 is 1
    /// (the number of items is not known ahead). An error the source throws
    /// ends the job: get() throws it once the results before it are in.
    template <std::derived_from<ItemSource> S>
    std::vector<std::string> map(std::string_view task, std::unique_ptr<S> items, std::size_t chunksize = 1) {
        return map_source(task, std::move(items), chunksize).get();
    }
    /// Starts map; the results come later, all at once, in input order, and
    /// the whole list goes to `callback` (see apply_async).
    AsyncResult<std::vector<std::string>> map_async(
        std::string_view task, std::vector<std::string> items, std::size_t chunksize = 0,
        AsyncResult<std::vector<std::string>>::Callback callback = {},
        AsyncResult<std::vector<std::string>>::ErrorCallback error_callback = {});
    /// The same over an ItemSource (as map).
    template <std::derived_from<ItemSource> S>
    AsyncResult<std::vector<std::string>> map_async(
        std::string_view task, std::unique_ptr<S> items, std::size_t chunksize = 1,
        AsyncResult<std::vector<std::string>>::Callback callback = {},
        AsyncResult<std::vector<std::string>>::ErrorCallback error_callback = {}) {
        return map_source(task, std::move(items), chunksize, std::move(callback), std::move(error_callback));
    }

    /// Streams results in input order.
    ResultIterator imap(std::string_view task, std::vector<std::string> items, std::size_t chunksize = 1);
    /// The same over items read from `items` as the pool takes them: results
    /// not yet taken hold the reading back, so a long input runs in bounded memory.
    ResultIterator imap(std::string_view task, std::unique_ptr<ItemSource> items, std::size_t chunksize = 1);
    /// Streams results in completion order.
    ResultIterator imap_unordered(std::string_view task, std::vector<std::string> items, std::size_t chunksize = 1);
    /// The same over items read from `items`, as imap reads them.
    ResultIterator imap_unordered(std::string_view task, std::unique_ptr<ItemSource> items,
                                  std::size_t chunksize = 1);

    /// No more work may be submitted; workers exit once it is all done.
    void close();
    /// Stops the workers and their commands now (TERM, then KILL after a grace
    /// period); unfinished results fail.
    void terminate();
    /// Waits for the workers to exit; call close() or terminate() first.
    void join();

    /// The number of workers.
    int processes() const;
    /// Workers running a task now.
    int running() const;

    /// Watches a descriptor of the program's own (a socket, a pipe) while
    /// the pool waits, so that one thread serves both: `on_readable` runs
    /// after each wait in which `fd` is readable, inside whichever call of
    /// the pool is waiting, under the callbacks' rules (see apply_async: it
    /// may submit work, never wait). A second watch of `fd` replaces the first.
    void watch(int fd, std::function<void()> on_readable);
    /// As watch(), and `on_ready` also runs when `fd` can be written: for a
    /// caller with bytes waiting to go out on it, which must never block.
    void watch_writable(int fd, std::function<void()> on_ready);
    /// Stops watching `fd` (before it is closed).
    void unwatch(int fd);
    /// Drives the pool (its work, its watches, its callbacks) until `done()`
    /// holds (true) or `timeout` passes (false). Throws Interrupted on a
    /// caught signal, and Error when nothing could ever make `done()` hold.
    bool run_until(const std::function<bool()>& done, Timeout timeout = {});
    /// Python's default chunksize for map over `n` items.
    static std::size_t default_chunksize(std::size_t n, int processes);

private:
    template <class R>
    static std::vector<std::string> to_strings(R&& items) {
        std::vector<std::string> out;
        for (auto&& item : items) out.emplace_back(item);
        return out;
    }
    std::shared_ptr<detail::Job> submit(std::string_view task, std::unique_ptr<ItemSource> items,
                                        std::size_t chunksize, bool ordered, bool bounded);
    AsyncResult<std::vector<std::string>> map_source(
        std::string_view task, std::unique_ptr<ItemSource> items, std::size_t chunksize,
        AsyncResult<std::vector<std::string>>::Callback callback = {},
        AsyncResult<std::vector<std::string>>::ErrorCallback error_callback = {});
    template <class T>
    AsyncResult<T> async(std::shared_ptr<detail::Job> job, typename AsyncResult<T>::Callback callback,
                         typename AsyncResult<T>::ErrorCallback error_callback);
    std::shared_ptr<detail::Core> m_core;
};

}  // namespace ppool
