#pragma once

#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <unordered_map>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pool/halt.hpp"
#include "pool/item_blocks.hpp"
#include "worker/chunk.hpp"
#include "ppool/item_source.hpp"
#include "ppool/result.hpp"
#include "ppool/result_run.hpp"
#include "ppool/task.hpp"

namespace ppool::detail {

/// One call of apply/map/imap: its input, what is in flight, and the results
/// waiting to be taken, in input order (ordered) or completion order.
class Job {
public:
    /// `window` bounds results handed out but not yet taken (0: no bound), so
    /// a slow first task in an ordered job stops the hand-out, not memory.
    /// `task` must outlive the job (a registry entry does).
    Job(std::uint64_t id, const TaskInfo& task, std::unique_ptr<ItemSource> source, std::size_t chunksize,
        bool ordered, std::size_t window, HaltRule halt = {});

    /// A failed task runs up to `retries` more times; `on_complete` sees every
    /// finished task (its last attempt) as it arrives.
    void set_retries(unsigned retries) { m_retries = retries; }
    void set_on_complete(std::function<void(const TaskResult&)> hook) { m_on_complete = std::move(hook); }
    /// Called once, by the pool, when the job has finished (not when the pool's end cancelled it).
    void set_on_finished(std::function<void(Job&)> hook) { m_on_finished = std::move(hook); }
    /// Takes the hook set by set_on_finished (empty if none, or taken already).
    std::function<void(Job&)> take_on_finished() { return std::exchange(m_on_finished, {}); }
    bool has_on_finished() const { return static_cast<bool>(m_on_finished); }
    /// What reading the input threw, if it failed: the job ends with the items read before.
    const std::exception_ptr& input_error() const { return m_input_error; }
    /// `on_results` sees the same finished tasks a run at a time.
    void set_on_results(std::function<void(const ResultRun&)> hook) { m_on_results = std::move(hook); }

    std::uint64_t id() const { return m_id; }
    const TaskInfo& task() const { return *m_task; }
    std::size_t chunksize() const { return m_chunksize; }
    ItemSource& source() { return *m_source; }

    /// Whether more input should be read now (not at the end, below the read-ahead and window).
    bool wants_input() const;
    /// Reads what the source has; marks the end of input.
    void read_input();
    /// Whether a chunk may be handed out now.
    bool can_hand_out() const;
    /// Takes up to `max` items (0: chunksize) for a worker.
    Chunk take_chunk(std::size_t max);
    /// Puts items a worker never started back at the front, in order.
    void requeue(ItemBlock items);
    /// Files finished results: retries go back in line, the rest wait their turn.
    void deliver(ResultRun run);
    /// The next result in the job's order, if it is ready.
    std::optional<TaskResult> take();
    /// The next results in the job's order as they came: a run of one or more.
    std::optional<ResultRun> take_batch();
    bool has_ready() const { return !m_ready.empty(); }

    /// No more items will be handed out.
    bool input_exhausted() const { return m_source_done && m_queue.empty(); }
    /// Every item has a result, the job was cancelled, or it halted (soon) and nothing runs any more.
    bool finished() const {
        return m_cancelled || (input_exhausted() && m_completed == m_read) || (m_halting && in_flight() == 0);
    }
    /// Every result has been taken.
    bool drained() const { return finished() && m_ready.empty(); }
    /// Stops the job: nothing more is handed out; waiting callers get `why`.
    void cancel(std::string why);
    bool cancelled() const { return m_cancelled; }
    const std::string& cancel_reason() const { return m_cancel_reason; }
    std::uint64_t failures() const { return m_failures; }
    /// Whether the halt rule stopped the job at once (`now`, fail-fast): its
    /// results end early, by design, and its running tasks are to be stopped.
    bool halted_now() const { return m_halted_now; }
    /// Whether the halt rule ended the job, now or soon.
    bool halted() const { return m_halted_now || m_halting; }
    std::uint64_t items_read() const { return m_read; }
    std::uint64_t completed() const { return m_completed; }
    /// Items given to workers and not finished yet.
    std::uint64_t in_flight() const { return m_handed_out - m_completed; }
    /// Whether the input has ended (the total is known).
    bool source_done() const { return m_source_done; }

private:
    void read_some_input();
    /// Numbers the block's items and queues them.
    void queue_read(ItemBlock& block);
    /// Files finished results: in order, or as they come.
    void file(ResultRun run);
    /// Entries `from` to `to` of `run`, finished, as a run that on_results has seen.
    ResultRun finished(const ResultRun& run, std::size_t from, std::size_t to);
    /// Moves the runs that are next in order from the reorder buffer to the ready ones.
    void drain_reorder();
    /// Acts on the halt rule once it holds, after entry `i` of `run` (filed up to `from`); true: stop delivering.
    bool halt(const ResultRun& run, std::size_t from, std::size_t i);
    /// Makes the results waiting behind a gap ready: no item will fill it.
    void release_reorder();

    std::uint64_t m_id;
    const TaskInfo* m_task;
    std::unique_ptr<ItemSource> m_source;
    std::size_t m_chunksize;
    bool m_ordered;
    std::size_t m_window;
    bool m_source_done = false;
    BlockQueue m_queue;
    BlockSource* m_block_source = nullptr;
    ItemBlock m_block;
    std::vector<std::string> m_read_buffer;
    std::uint64_t m_read = 0;
    std::uint64_t m_handed_out = 0;
    std::uint64_t m_completed = 0;
    std::uint64_t m_taken = 0;
    std::uint64_t m_failures = 0;
    std::uint64_t m_next_emit = 1;
    std::map<std::uint64_t, ResultRun> m_reorder;
    std::deque<ResultRun> m_ready;
    HaltCounter m_halt;
    bool m_halting = false;  ///< `soon`: nothing more starts, the running tasks finish
    unsigned m_retries = 0;
    std::unordered_map<std::uint64_t, unsigned> m_attempts;  ///< failed items being retried
    std::function<void(const TaskResult&)> m_on_complete;
    std::function<void(const ResultRun&)> m_on_results;
    std::function<void(Job&)> m_on_finished;
    std::exception_ptr m_input_error;
    bool m_halted_now = false;
    bool m_cancelled = false;
    std::string m_cancel_reason;
};

}  // namespace ppool::detail
