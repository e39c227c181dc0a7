// The pool's policy (hand-out, ordering, backpressure, requeue, recycling)
// driven over a scripted fake worker set: no process is forked here.
#include <doctest/doctest.h>

#include "pool/core.hpp"
#include "os/fd.hpp"
#include "pool/run_data.hpp"

#include <algorithm>
#include <map>

using namespace ppool;
using namespace ppool::detail;

namespace {

/// The task of every job here, as the registry would hand it out.
const TaskInfo k_task = [] {
    TaskInfo task;
    task.name = "t";
    task.function = [](std::string_view item) { return std::string(item); };
    return task;
}();

/// Slots that finish chunks when the script says so.
class FakeWorkers final : public WorkerSet {
public:
    explicit FakeWorkers(std::size_t n, std::uint64_t budget = 0) : m_slots(n), m_budget(budget) {}

    std::size_t size() const override { return m_slots.size(); }
    bool idle(std::size_t slot) const override { return !m_slots[slot].has_value(); }
    std::uint64_t budget(std::size_t) const override { return m_budget; }
    void dispatch(std::size_t slot, Chunk chunk) override {
        // Resolved once, with the job: every chunk carries the same task.
        if (chunk.task != &k_task) ++chunks_without_task;
        // One buffer: every item lies in it, each followed by its byte.
        if (chunk.bytes->size() != chunk.items.back().end + 1) ++malformed_chunks;
        largest_chunk = std::max(largest_chunk, chunk.items.size());
        dispatched += chunk.items.size();
        ++chunks;
        if (chunk.timed_by_pool) timeouts.push_back(chunk.timeout);
        m_slots[slot] = std::move(chunk);
        most_running = std::max(most_running, running());
    }
    bool busy() const override {
        return std::any_of(m_slots.begin(), m_slots.end(), [](auto& s) { return s.has_value(); });
    }
    std::size_t running() const override {
        return static_cast<std::size_t>(std::count_if(m_slots.begin(), m_slots.end(), [](auto& s) { return s.has_value(); }));
    }
    os::Wake wait(std::vector<InputWatch>&, std::optional<os::TimePoint>, WorkerEvents& out) override {
        // Finish the busy slot the script picks; a stalled item never finishes.
        for (std::size_t k = 0; k < m_slots.size(); ++k) {
            std::size_t slot = reverse ? m_slots.size() - 1 - k : k;
            auto& chunk = m_slots[slot];
            if (!chunk) continue;
            if (std::any_of(chunk->items.begin(), chunk->items.end(), [&](auto& i) { return i.seq == stalled; }))
                continue;
            if (lose_seq && chunk->items.front().seq == lose_seq) {
                // The worker died on its first item: the rest goes back.
                lose_seq = 0;
                TaskResult r;
                r.seq = chunk->items.front().seq;
                r.input = std::string(chunk->item(0));
                r.status = Status::worker_lost;
                out.runs.push_back(RunEvent{chunk->job, ResultRun(r)});
                out.requeue.push_back(RequeueEvent{chunk->job, chunk->rest(1)});
                chunk.reset();
                return os::Wake::ready;
            }
            out.runs.push_back(RunEvent{chunk->job, results_of(*chunk, slot)});
            chunk.reset();
            if (!complete_all) return os::Wake::ready;
        }
        return complete_all && !busy() ? os::Wake::ready : os::Wake::deadline;
    }
    void terminate() override {
        terminated = true;
        for (auto& s : m_slots) s.reset();
    }
    void shutdown() override {}

    /// As a worker answers a chunk: one run, an entry per item, the output
    /// of each the item and "!" (with the newline text output adds).
    ResultRun results_of(const Chunk& chunk, std::size_t slot) {
        auto data = std::make_shared<RunData>();
        data->inputs = chunk.bytes;
        data->worker = static_cast<int>(slot);
        for (std::size_t i = 0; i < chunk.size(); ++i) {
            RunEntry e;
            e.seq = chunk.items[i].seq;
            e.input_end = chunk.items[i].end;
            e.status = e.seq != fail_seq ? Status::ok : Status::failed;
            if (auto it = fail_times.find(e.seq); it != fail_times.end() && it->second > 0) {
                --it->second;
                e.status = Status::failed;
            }
            e.duration_ns = 1000;
            if (e.status == Status::ok) {
                data->text += std::string(chunk.item(i)) + "!\n";
                e.added_newline = true;
            }
            e.output_end = data->text.size();
            data->entries.push_back(e);
        }
        return ResultRun(std::move(data), 0, chunk.size());
    }

    bool reverse = false;
    bool complete_all = false;  ///< finish every busy slot in one wait
    std::uint64_t stalled = 0;
    std::uint64_t lose_seq = 0;
    std::uint64_t fail_seq = 0;
    std::map<std::uint64_t, int> fail_times;  ///< items that fail this many times, then succeed
    bool terminated = false;
    std::size_t dispatched = 0;
    std::size_t chunks = 0;
    std::size_t largest_chunk = 0;
    std::size_t most_running = 0;
    std::size_t malformed_chunks = 0;
    std::size_t chunks_without_task = 0;
    std::vector<std::optional<double>> timeouts;  ///< of the chunks the pool timed itself

private:
    std::vector<std::optional<Chunk>> m_slots;
    std::uint64_t m_budget;
};

/// A jobserver over a pipe holding `tokens`, as make would hand it down.
std::optional<os::Jobserver> jobserver_with(const os::Pipe& pipe, std::string_view tokens) {
    os::write_all(pipe.write.get(), tokens);
    return os::Jobserver::open(os::JobserverAuth{{}, pipe.read.get(), pipe.write.get(), {}});
}

/// The tokens in the pipe now.
std::size_t tokens_in(const os::Pipe& pipe) {
    os::set_nonblocking(pipe.read.get(), true);
    std::string out;
    while (os::read_some(pipe.read.get(), out, 64) == os::IoStatus::done) {
    }
    os::set_nonblocking(pipe.read.get(), false);
    os::write_all(pipe.write.get(), out);
    return out.size();
}

std::vector<std::string> numbers(int n) {
    std::vector<std::string> out;
    for (int i = 1; i <= n; ++i) out.push_back(std::to_string(i));
    return out;
}

/// Items in memory handed out as blocks, `block` items per read.
class BlockMemorySource final : public ItemSource, public BlockSource {
public:
    BlockMemorySource(std::vector<std::string> items, std::size_t block) : m_items(std::move(items)), m_block(block) {}
    int fd() const override { return -1; }
    bool read_more(std::vector<std::string>&) override { throw std::logic_error("read item by item"); }
    bool read_block(ItemBlock& out) override {
        if (m_next >= m_items.size()) return false;
        out = ItemBlock{};
        for (std::size_t n = 0; m_next < m_items.size() && n < m_block; ++m_next, ++n) out.add(0, m_items[m_next]);
        return true;
    }

private:
    std::vector<std::string> m_items;
    std::size_t m_block;
    std::size_t m_next = 0;
};

std::shared_ptr<Job> submit_blocks(Core& core, int n, std::size_t chunksize, bool ordered, std::size_t block = 7) {
    return core.submit(k_task, std::make_unique<BlockMemorySource>(numbers(n), block), chunksize, ordered, 0);
}

std::vector<TaskResult> drain(Core& core, const std::shared_ptr<Job>& job) {
    std::vector<TaskResult> out;
    for (;;) {
        core.run_until([&] { return job->has_ready() || job->finished(); }, std::nullopt);
        auto r = job->take();
        if (!r) return out;
        out.push_back(std::move(*r));
    }
}

}  // namespace

TEST_CASE("ordered jobs deliver in input order whatever the completion order") {
    auto fake = std::make_unique<FakeWorkers>(3);
    fake->reverse = true;
    Core core(PoolOptions{}, std::move(fake));
    auto job = core.submit(k_task, items_from(numbers(20)), 2, true, 0);
    auto results = drain(core, job);
    REQUIRE(results.size() == 20);
    for (std::size_t i = 0; i < results.size(); ++i) CHECK(results[i].seq == i + 1);
    CHECK(results[4].output == "5!");
}

TEST_CASE("unordered jobs deliver every item once") {
    auto fake = std::make_unique<FakeWorkers>(3);
    fake->reverse = true;
    Core core(PoolOptions{}, std::move(fake));
    auto job = core.submit(k_task, items_from(numbers(10)), 1, false, 0);
    auto results = drain(core, job);
    std::vector<std::uint64_t> seqs;
    for (auto& r : results) seqs.push_back(r.seq);
    CHECK(seqs != std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
    std::sort(seqs.begin(), seqs.end());
    CHECK(seqs == std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
}

TEST_CASE("chunks never exceed chunksize or a worker's remaining budget") {
    auto fake = std::make_unique<FakeWorkers>(2, 3);
    auto* f = fake.get();
    Core core(PoolOptions{}, std::move(fake));
    auto job = core.submit(k_task, items_from(numbers(50)), 10, true, 0);
    CHECK(drain(core, job).size() == 50);
    CHECK(f->largest_chunk == 3);
}

TEST_CASE("a slow first task in an ordered job stops the hand-out, not memory") {
    auto fake = std::make_unique<FakeWorkers>(2);
    auto* f = fake.get();
    f->stalled = 1;
    Core core(PoolOptions{}, std::move(fake));
    auto job = core.submit(k_task, items_from(numbers(10000)), 1, true, 16);
    bool got = core.run_until([&] { return job->has_ready(); },
                              os::Clock::now() + std::chrono::milliseconds(200));
    CHECK_FALSE(got);
    // Item 1 is stuck: only the window's worth was handed out.
    CHECK(f->dispatched <= 17);
    CHECK(f->dispatched >= 2);
}

TEST_CASE("items a lost worker never started are handed out again") {
    auto fake = std::make_unique<FakeWorkers>(1);
    auto* f = fake.get();
    fake->lose_seq = 1;
    Core core(PoolOptions{}, std::move(fake));
    auto job = core.submit(k_task, items_from(numbers(5)), 5, true, 0);
    auto results = drain(core, job);
    REQUIRE(results.size() == 5);
    CHECK(results[0].status == Status::worker_lost);
    for (std::size_t i = 1; i < 5; ++i) CHECK(results[i].ok());
    // The chunk handed out again carries the job's task, as the first did.
    CHECK(f->dispatched == 9);
    CHECK(f->chunks_without_task == 0);
}

TEST_CASE("jobs are served first come, first served") {
    auto fake = std::make_unique<FakeWorkers>(1);
    Core core(PoolOptions{}, std::move(fake));
    auto first = core.submit(k_task, items_from(numbers(3)), 1, true, 0);
    auto second = core.submit(k_task, items_from(numbers(3)), 1, true, 0);
    core.run_until([&] { return second->finished(); }, std::nullopt);
    CHECK(first->finished());
}

TEST_CASE("empty input finishes at once") {
    Core core(PoolOptions{}, std::make_unique<FakeWorkers>(2));
    auto job = core.submit(k_task, items_from({}), 1, true, 0);
    CHECK(drain(core, job).empty());
}

TEST_CASE("waiting on nothing is an error, never a hang") {
    Core core(PoolOptions{}, std::make_unique<FakeWorkers>(1));
    CHECK_THROWS_AS(core.run_until([] { return false; }, std::nullopt), Error);
}

TEST_CASE("fail-fast: the first failure ends the results and stops the running tasks") {
    auto fake = std::make_unique<FakeWorkers>(2);
    auto* f = fake.get();
    f->stalled = 1;
    f->fail_seq = 3;
    PoolOptions o;
    o.fail_fast = true;
    Core core(o, std::move(fake));
    auto job = core.submit(k_task, items_from(numbers(100)), 1, true, 0, HaltCounter::rule_of(o));
    auto results = drain(core, job);
    // Item 1 never finishes: the failure of 3 still ends the job, with 2 before it.
    REQUIRE(results.size() == 2);
    CHECK(results[0].seq == 2);
    CHECK(results[1].seq == 3);
    CHECK_FALSE(results[1].ok());
    CHECK(f->terminated);
    CHECK(f->dispatched < 100);
}

TEST_CASE("join after a job whose input ends once every item is done") {
    // Two items fill the read-ahead, so the end of input is only seen after
    // both results: that turn finishes the job with nothing left running.
    auto fake = std::make_unique<FakeWorkers>(2);
    fake->complete_all = true;
    Core core(PoolOptions{}, std::move(fake));
    auto job = core.submit(k_task, items_from(numbers(2)), 1, true, 0);
    CHECK(core.run_until([&] { return job->finished(); }, std::nullopt));
    core.close();
    CHECK_NOTHROW(core.join());
}

TEST_CASE("retries: a failed item runs again, keeps its place, and reports its attempts once") {
    auto fake = std::make_unique<FakeWorkers>(2);
    fake->fail_times = {{3, 2}, {5, 10}};
    Core core(PoolOptions{}, std::move(fake));
    auto job = core.submit(k_task, items_from(numbers(6)), 1, true, 0);
    job->set_retries(2);
    std::vector<std::uint64_t> completed;
    job->set_on_complete([&](const TaskResult& r) { completed.push_back(r.seq); });
    std::vector<std::uint64_t> in_runs;
    job->set_on_results([&](const ResultRun& run) {
        for (std::size_t i = 0; i < run.size(); ++i) in_runs.push_back(run[i].seq);
    });
    auto results = drain(core, job);
    REQUIRE(results.size() == 6);
    for (std::size_t i = 0; i < results.size(); ++i) CHECK(results[i].seq == i + 1);
    CHECK(results[2].ok());
    CHECK(results[2].attempts == 3);
    CHECK_FALSE(results[4].ok());
    CHECK(results[4].attempts == 3);
    CHECK(results[0].attempts == 1);
    CHECK(job->failures() == 1);
    // Every item is seen once by on_complete, at its final attempt.
    std::sort(completed.begin(), completed.end());
    CHECK(completed == std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6});
    // And once by on_results, in the runs they finished in.
    std::sort(in_runs.begin(), in_runs.end());
    CHECK(in_runs == completed);
}

TEST_CASE("jobserver: one task runs without a token, each further one holds one") {
    auto pipe = os::make_pipe();
    auto fake = std::make_unique<FakeWorkers>(4);
    auto* f = fake.get();
    Core core(PoolOptions{}, std::move(fake), jobserver_with(pipe, "+"));
    auto job = core.submit(k_task, items_from(numbers(20)), 1, false, 0);
    CHECK(drain(core, job).size() == 20);
    CHECK(f->most_running == 2);
    CHECK(tokens_in(pipe) == 1);
}

TEST_CASE("jobserver: without tokens the pool runs one task at a time and finishes") {
    auto pipe = os::make_pipe();
    auto fake = std::make_unique<FakeWorkers>(4);
    auto* f = fake.get();
    Core core(PoolOptions{}, std::move(fake), jobserver_with(pipe, ""));
    auto job = core.submit(k_task, items_from(numbers(10)), 1, true, 0);
    CHECK(drain(core, job).size() == 10);
    CHECK(f->most_running == 1);
}

TEST_CASE("jobserver: fail-fast and the end of the pool give every token back") {
    auto pipe = os::make_pipe();
    {
        auto fake = std::make_unique<FakeWorkers>(3);
        fake->fail_seq = 2;
        PoolOptions o;
        o.fail_fast = true;
        Core core(o, std::move(fake), jobserver_with(pipe, "ab"));
        auto job = core.submit(k_task, items_from(numbers(10)), 1, true, 0, HaltCounter::rule_of(o));
        drain(core, job);
        CHECK(tokens_in(pipe) == 2);
    }
    {
        auto fake = std::make_unique<FakeWorkers>(3);
        fake->stalled = 1;
        auto* f = fake.get();
        Core core(PoolOptions{}, std::move(fake), jobserver_with(pipe, ""));
        auto job = core.submit(k_task, items_from(numbers(10)), 1, false, 0);
        core.run_until([&] { return job->has_ready(); }, std::nullopt);
        // The stalled item and one more still run: one token is out, the one freed is back.
        CHECK(f->running() == 2);
        CHECK(tokens_in(pipe) == 1);
    }
    CHECK(tokens_in(pipe) == 2);
}

TEST_CASE("chunks of blocks come back as runs, taken one by one in input order") {
    auto fake = std::make_unique<FakeWorkers>(3);
    auto* f = fake.get();
    f->reverse = true;
    Core core(PoolOptions{}, std::move(fake));
    auto job = submit_blocks(core, 100, 4, true);
    auto results = drain(core, job);
    CHECK(f->chunks == 25);
    CHECK(f->largest_chunk == 4);
    CHECK(f->chunks_without_task == 0);
    CHECK(f->malformed_chunks == 0);
    REQUIRE(results.size() == 100);
    for (std::size_t i = 0; i < results.size(); ++i) {
        CHECK(results[i].seq == i + 1);
        CHECK(results[i].input == std::to_string(i + 1));
        // The newline added for printing is not part of the result.
        CHECK(results[i].output == std::to_string(i + 1) + "!");
        CHECK(results[i].ok());
        CHECK(results[i].worker >= 0);
    }
}

TEST_CASE("runs keep their order taken whole, failures and all") {
    auto fake = std::make_unique<FakeWorkers>(2);
    fake->reverse = true;
    fake->fail_seq = 6;
    Core core(PoolOptions{}, std::move(fake));
    auto job = submit_blocks(core, 20, 10, true, 3);
    std::string text;
    std::vector<std::uint64_t> failed;
    std::uint64_t next = 1;
    for (;;) {
        core.run_until([&] { return job->has_ready() || job->finished(); }, std::nullopt);
        auto run = job->take_batch();
        if (!run) break;
        CHECK(run->first_seq() == next);
        for (std::size_t i = 0; i < run->size(); ++i)
            if (!(*run)[i].ok()) failed.push_back((*run)[i].seq);
        next += run->size();
        CHECK(run->plain() == !run->has_failure());
        text += run->text();
    }
    CHECK(next == 21);
    CHECK(failed == std::vector<std::uint64_t>{6});
    // A run's text holds the outputs of its successes, back to back.
    std::string expected;
    for (int i = 1; i <= 20; ++i)
        if (i != 6) expected += std::to_string(i) + "!\n";
    CHECK(text == expected);
    CHECK(job->drained());
}

TEST_CASE("a retried item is cut out of its run and keeps its place") {
    auto fake = std::make_unique<FakeWorkers>(1);
    fake->fail_times = {{4, 1}};
    Core core(PoolOptions{}, std::move(fake));
    auto job = submit_blocks(core, 8, 8, true, 8);
    job->set_retries(1);
    std::vector<std::pair<std::uint64_t, std::size_t>> runs;  // (first seq, size)
    std::vector<unsigned> attempts;
    for (;;) {
        core.run_until([&] { return job->has_ready() || job->finished(); }, std::nullopt);
        auto run = job->take_batch();
        if (!run) break;
        runs.emplace_back(run->first_seq(), run->size());
        while (!run->empty()) attempts.push_back(run->pop().attempts);
    }
    // 1-3 go at once; 5-8 wait behind the retry of 4, which comes on its own.
    CHECK(runs == std::vector<std::pair<std::uint64_t, std::size_t>>{{1, 3}, {4, 1}, {5, 4}});
    CHECK(attempts == std::vector<unsigned>{1, 1, 1, 2, 1, 1, 1, 1});
}

TEST_CASE("unordered block jobs deliver every item once") {
    auto fake = std::make_unique<FakeWorkers>(3);
    fake->reverse = true;
    fake->fail_seq = 13;
    Core core(PoolOptions{}, std::move(fake));
    auto job = submit_blocks(core, 50, 6, false, 11);
    auto results = drain(core, job);
    std::vector<std::uint64_t> seqs;
    for (auto& r : results) {
        seqs.push_back(r.seq);
        CHECK(r.ok() == (r.seq != 13));
    }
    std::sort(seqs.begin(), seqs.end());
    REQUIRE(seqs.size() == 50);
    for (std::size_t i = 0; i < seqs.size(); ++i) CHECK(seqs[i] == i + 1);
}

TEST_CASE("block chunks respect a worker's remaining budget") {
    auto fake = std::make_unique<FakeWorkers>(2, 3);
    auto* f = fake.get();
    Core core(PoolOptions{}, std::move(fake));
    auto job = submit_blocks(core, 50, 10, true);
    CHECK(drain(core, job).size() == 50);
    CHECK(f->largest_chunk == 3);
}

TEST_CASE("items put back go out first, in one buffer with their own numbers") {
    Job job(1, k_task, std::make_unique<BlockMemorySource>(numbers(10), 10), 4, true, 0);
    job.read_input();
    auto first = job.take_chunk(0);
    REQUIRE(first.size() == 4);
    CHECK(first.items[0].seq == 1);
    CHECK(*first.bytes == "1\n2\n3\n4\n");
    job.requeue(first.rest(1));
    auto again = job.take_chunk(0);
    REQUIRE(again.size() == 4);
    CHECK(again.items[0].seq == 2);
    CHECK(again.item(0) == "2");
    CHECK(again.items[2].seq == 4);
    CHECK(again.items[3].seq == 5);
    CHECK(again.item(3) == "5");
    auto next = job.take_chunk(0);
    CHECK(next.items[0].seq == 6);
    CHECK(next.size() == 4);
}

TEST_CASE("halt soon: at the second failure nothing more starts, the running tasks finish and are reported") {
    auto fake = std::make_unique<FakeWorkers>(2);
    auto* f = fake.get();
    f->fail_times = {{3, 1}, {4, 1}};
    PoolOptions o;
    o.halt = HaltRule{HaltRule::When::soon, HaltRule::On::fail, 2, false};
    Core core(o, std::move(fake));
    auto job = core.submit(k_task, items_from(numbers(100)), 1, true, 0, HaltCounter::rule_of(o));
    auto results = drain(core, job);
    // 3 and 4 run side by side; 4 is the second failure; 5 and 6 had started after 3 and 4 were handed out.
    CHECK(job->halted());
    CHECK_FALSE(job->halted_now());
    CHECK_FALSE(f->terminated);
    CHECK(results.size() == f->dispatched);
    CHECK(f->dispatched < 10);
    for (std::size_t i = 0; i < results.size(); ++i) CHECK(results[i].seq == i + 1);
    CHECK(job->failures() == 2);
}

TEST_CASE("halt now on success: the first success ends the results and stops the running tasks") {
    auto fake = std::make_unique<FakeWorkers>(2);
    auto* f = fake.get();
    f->stalled = 1;
    PoolOptions o;
    o.halt = HaltRule{HaltRule::When::now, HaltRule::On::success, 1, false};
    Core core(o, std::move(fake));
    auto job = core.submit(k_task, items_from(numbers(100)), 1, true, 0, HaltCounter::rule_of(o));
    auto results = drain(core, job);
    REQUIRE(results.size() == 1);
    CHECK(results[0].seq == 2);
    CHECK(results[0].ok());
    CHECK(f->terminated);
    CHECK(job->halted_now());
}

TEST_CASE("halt at a percentage: the whole input is read to know the total") {
    auto fake = std::make_unique<FakeWorkers>(1);
    auto* f = fake.get();
    f->fail_times = {{1, 1}, {2, 1}, {3, 1}};
    PoolOptions o;
    o.halt = HaltRule{HaltRule::When::soon, HaltRule::On::fail, 25, true};
    Core core(o, std::move(fake));
    auto job = core.submit(k_task, items_from(numbers(10)), 1, true, 0, HaltCounter::rule_of(o));
    auto results = drain(core, job);
    // As GNU parallel: 25% of 10 items is reached at the third failure.
    CHECK(results.size() == 3);
    CHECK(job->items_read() == 10);
}

TEST_CASE("pace: no task starts while the load is high, and they start once it is low") {
    double load = 9;
    std::uint64_t memory = std::uint64_t{1} << 40;
    auto fake = std::make_unique<FakeWorkers>(2);
    auto* f = fake.get();
    PoolOptions o;
    o.max_load = 2;
    o.min_memfree = 1 << 20;
    Pacer::Readers readers{[&] { return std::optional(load); }, [&] { return std::optional(memory); }};
    Core core(o, std::move(fake), readers);
    auto job = core.submit(k_task, items_from(numbers(4)), 1, true, 0);
    CHECK_FALSE(core.run_until([&] { return job->finished(); }, os::Clock::now() + os::seconds(0.3)));
    CHECK(f->dispatched == 0);
    load = 1;
    memory = 1000;
    CHECK_FALSE(core.run_until([&] { return job->finished(); }, os::Clock::now() + os::seconds(0.3)));
    CHECK(f->dispatched == 0);
    memory = std::uint64_t{1} << 30;
    CHECK(core.run_until([&] { return job->finished(); }, os::Clock::now() + os::seconds(30)));
    CHECK(f->dispatched == 4);
    // Paced tasks start one by one, on free slots only.
    CHECK(f->most_running <= 2);
}

TEST_CASE("timeout N%: chunks carry no limit until 3 tasks succeeded, then N% of their median") {
    auto fake = std::make_unique<FakeWorkers>(1);
    auto* f = fake.get();
    f->fail_seq = 2;
    PoolOptions o;
    o.task_timeout_percent = 300000000;  // of 1 microsecond: 3 seconds
    Core core(o, std::move(fake));
    auto job = core.submit(k_task, items_from(numbers(6)), 1, true, 0);
    drain(core, job);
    REQUIRE(f->timeouts.size() == 6);
    // Items 1, 3 and 4 are the first three successes (2 fails): 5 is the first with a limit.
    for (std::size_t i = 0; i < 4; ++i) CHECK_FALSE(f->timeouts[i].has_value());
    REQUIRE(f->timeouts[4].has_value());
    CHECK(*f->timeouts[4] == doctest::Approx(3.0));
}
